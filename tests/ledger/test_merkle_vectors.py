"""RFC 9162 proof verification against published vectors (no Django, no database).

* shared/reference/merkle: the 196 inclusion and consistency vectors of
  transparency-dev/merkle (testdata/), each with ``wantErr``; valid proofs must verify and every
  mutation must be refused.
* crypto-vectors.json ``ct_real_inclusion_proof``: a 22-hash inclusion proof from a production
  CT log (tree of 3,630,887 leaves).
* sigstore/: the inclusion proofs of two real Rekor v2 entries.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from openbid.ledger import merkle
from openbid.ledger.checkpoint import parse_checkpoint
from openbid.ledger.note import parse_note
from tests.reference import REFERENCE

VECTORS = REFERENCE / "merkle"
VECTOR_FILES = sorted(VECTORS.rglob("*.json"))

# The leaves of the test tree transparency-dev/merkle's vectors were generated from (the RFC 6962
# test data of proof/verify_test.go, originally from certificate-transparency). The roots checked
# below prove these are the right leaves.
TEST_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _proof(data: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in data["proof"] or []]


def _verify(data: dict[str, Any]) -> bool:
    if "size1" in data:
        return merkle.verify_consistency(
            data["size1"], data["size2"], _proof(data), _b64(data["root1"]), _b64(data["root2"])
        )
    return merkle.verify_inclusion(
        _b64(data["leafHash"]), data["leafIdx"], data["treeSize"], _proof(data), _b64(data["root"])
    )


def test_vector_inventory() -> None:
    """All 196 vectors are present: 12 are valid proofs, 184 must be refused."""
    assert len(VECTOR_FILES) == 196
    wanted_valid = [p for p in VECTOR_FILES if not _load(p)["wantErr"]]
    assert len(wanted_valid) == 12
    assert len([p for p in VECTOR_FILES if "inclusion" in p.parts]) == 98
    assert len([p for p in VECTOR_FILES if "consistency" in p.parts]) == 98


@pytest.mark.parametrize(
    "path", VECTOR_FILES, ids=[str(p.relative_to(VECTORS)) for p in VECTOR_FILES]
)
def test_transparency_dev_vector(path: Path) -> None:
    data = _load(path)
    assert _verify(data) is (not data["wantErr"]), data["desc"]


@pytest.fixture(scope="module")
def test_tree() -> merkle.MemoryTree:
    return merkle.MemoryTree.from_entries(TEST_LEAVES)


HAPPY = [p for p in VECTOR_FILES if p.name == "happy-path.json"]


@pytest.mark.parametrize("path", HAPPY, ids=[str(p.relative_to(VECTORS)) for p in HAPPY])
def test_generated_proofs_equal_vectors(path: Path, test_tree: merkle.MemoryTree) -> None:
    """Our RFC 9162 proof generation reproduces the vectors' proofs from the same tree."""
    data = _load(path)
    if "size1" in data:
        size1, size2 = data["size1"], data["size2"]
        assert test_tree.root(size1) == _b64(data["root1"])
        assert test_tree.root(size2) == _b64(data["root2"])
        assert test_tree.consistency_proof(size1, size2) == _proof(data)
    else:
        index, size = data["leafIdx"], data["treeSize"]
        assert test_tree.levels[0][index] == _b64(data["leafHash"])
        assert test_tree.root(size) == _b64(data["root"])
        assert test_tree.inclusion_proof(index, size) == _proof(data)
        assert merkle.root_from_leaves(test_tree.levels[0][:size]) == _b64(data["root"])


def test_happy_paths_cover_both_kinds() -> None:
    kinds = {"size1" in _load(p) for p in HAPPY}
    assert kinds == {True, False}
    assert len(HAPPY) == 10


# ---- production CT log -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ct_proof() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REFERENCE / "crypto-vectors.json").read_text())
    return data["ct_real_inclusion_proof"]


def test_ct_production_inclusion_proof(ct_proof: dict[str, Any]) -> None:
    leaf = bytes.fromhex(ct_proof["leaf_hash_hex"])
    proof = [bytes.fromhex(h) for h in ct_proof["proof_hex"]]
    root = bytes.fromhex(ct_proof["root_hex"])
    index, size = ct_proof["leaf_index"], ct_proof["tree_size"]
    assert len(proof) == 22
    assert merkle.verify_inclusion(leaf, index, size, proof, root)
    # The proof has exactly the shape RFC 9162 §2.1.3.1 prescribes for (index, size).
    assert len(merkle.inclusion_proof_ranges(index, size)) == 22


def test_ct_production_inclusion_proof_mutations(ct_proof: dict[str, Any]) -> None:
    leaf = bytes.fromhex(ct_proof["leaf_hash_hex"])
    proof = [bytes.fromhex(h) for h in ct_proof["proof_hex"]]
    root = bytes.fromhex(ct_proof["root_hex"])
    index, size = ct_proof["leaf_index"], ct_proof["tree_size"]

    def flip(b: bytes, bit: int) -> bytes:
        out = bytearray(b)
        out[bit // 8] ^= 1 << (bit % 8)
        return bytes(out)

    for i in range(len(proof)):
        for bit in (0, 77, 255):
            bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
            assert not merkle.verify_inclusion(leaf, index, size, bad, root)
    for bit in range(256):
        assert not merkle.verify_inclusion(flip(leaf, bit), index, size, proof, root)
        assert not merkle.verify_inclusion(leaf, index, size, proof, flip(root, bit))
    for idx in (index - 1, index + 1, index ^ 2, size, size + index):
        assert not merkle.verify_inclusion(leaf, idx, size, proof, root)
    assert not merkle.verify_inclusion(leaf, index, size, proof[:-1], root)
    assert not merkle.verify_inclusion(leaf, index, size, [*proof, root], root)
    assert not merkle.verify_inclusion(leaf, index, size, [root, *proof], root)
    assert not merkle.verify_inclusion(leaf, index, size * 2, proof, root)


# ---- Rekor v2 inclusion proofs ---------------------------------------------------------------

REKOR_BUNDLES = sorted((REFERENCE / "sigstore").glob("*.sigstore.json"))


@pytest.mark.parametrize("path", REKOR_BUNDLES, ids=[p.name for p in REKOR_BUNDLES])
def test_rekor_v2_inclusion_proof(path: Path) -> None:
    """The leaf is the canonicalized body; the proof leads to the checkpoint's root hash."""
    bundle = json.loads(path.read_text())
    (entry,) = bundle["verificationMaterial"]["tlogEntries"]
    incl = entry["inclusionProof"]
    leaf = merkle.leaf_hash(_b64(entry["canonicalizedBody"]))
    index, size = int(incl["logIndex"]), int(incl["treeSize"])
    proof = [_b64(h) for h in incl["hashes"]]
    root = _b64(incl["rootHash"])
    assert merkle.verify_inclusion(leaf, index, size, proof, root)
    checkpoint = parse_checkpoint(parse_note(incl["checkpoint"]["envelope"]).text)
    assert (checkpoint.size, checkpoint.root_hash) == (size, root)
    # Any other leaf content is refused.
    other = merkle.leaf_hash(hashlib.sha256(b"not the body").digest())
    assert not merkle.verify_inclusion(other, index, size, proof, root)
