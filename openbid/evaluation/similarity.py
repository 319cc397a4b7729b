"""Document similarity between bids (投标文件雷同性分析), a first check of clearing (清标).

Three signals that bids were prepared together (Reg art. 40: 不同投标人的投标文件异常一致, 由同一单位
或者个人编制, 相互混装), each reported with its evidence; the committee and supervision judge them:

* near-identical text: MinHash (datasketch) over shingles of the extracted text estimates the
  Jaccard similarity of every pair of bids; pairs at or above ``threshold`` are flagged with the
  estimate and, to confirm it, the exact Jaccard similarity of their shingle sets.
* the same file in two bids: equal SHA-256 of a file across bidders (files the tender itself issued,
  such as blank forms, are ignored by listing their hashes).
* the same authoring fingerprint: equal ``machine`` (by default) in the bid package manifest's
  ``authoring`` section (openbid/bidding/package.py): the packages were built on one computer.

Shingles: the text is normalised (NFKC, case-folded) and cut into units: every CJK ideograph is one
unit (Chinese has no spaces, so character n-grams), every run of other letters or digits is one unit
(a word); punctuation and spaces are dropped. A shingle is ``shingle_size`` consecutive units.
Candidate pairs: all pairs are compared on their signatures (n(n−1)/2 vector comparisons, fine for
the ≤ 300 bids of a section); no LSH banding, so no pair is missed by banding.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from datasketch import MinHash
from django.utils.translation import gettext as _

from openbid.core.errors import InvalidInput
from openbid.evaluation.scoring import decimal_value, div_exact

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNITS = re.compile(rf"[{_CJK}]|[^\W{_CJK}_]+")
_SEP = "\x1f"
FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class BidDocuments:
    """What the similarity check reads of one bid: its files' SHA-256 (file name → hex), the
    manifest's authoring fingerprint and the text extracted from its documents."""

    bidder: str
    files: Mapping[str, str]
    fingerprint: Mapping[str, str]
    text: str

    @classmethod
    def from_manifest(cls, bidder: str, manifest: Mapping[str, Any], text: str) -> BidDocuments:
        """From a bid package manifest (``openbid.bidding.package.Package.manifest``)."""
        files = {str(f["name"]): str(f["sha256"]) for f in manifest.get("files", [])}
        authoring = manifest.get("authoring") or {}
        return cls(bidder, files, {k: str(v) for k, v in authoring.items()}, text)


@dataclass(frozen=True)
class SimilarityRules:
    threshold: Decimal = Decimal("0.80")
    shingle_size: int = 3
    num_perm: int = 256
    seed: int = 1
    ignore_sha256: frozenset[str] = frozenset()
    fingerprint_fields: tuple[str, ...] = ("machine",)

    def __post_init__(self) -> None:
        threshold = decimal_value(self.threshold, field="threshold", places=None)
        if not 0 < threshold <= 1:
            raise InvalidInput(
                _("The similarity threshold must be more than 0 and at most 1."),
                field="threshold",
                rule="similarity_rules",
            )
        if not 1 <= self.shingle_size <= 20 or not 16 <= self.num_perm <= 4096:
            raise InvalidInput(
                _("The shingle size must be 1–20 and the number of permutations 16–4096."),
                field="shingle_size",
                rule="similarity_rules",
            )


@dataclass(frozen=True)
class SimilarPair:
    a: str
    b: str
    estimate: Decimal  # MinHash: matching signature values ÷ num_perm, to 4 places
    matching: int  # matching signature values (of num_perm)
    exact: Decimal  # |A ∩ B| ÷ |A ∪ B| of the shingle sets, to 4 places
    shared_shingles: int


@dataclass(frozen=True)
class DuplicateFile:
    sha256: str
    copies: tuple[tuple[str, str], ...]  # (bidder, file name)

    @property
    def bidders(self) -> tuple[str, ...]:
        return tuple(sorted({b for b, _n in self.copies}))


@dataclass(frozen=True)
class SharedFingerprint:
    field: str
    value: str
    bidders: tuple[str, ...]


@dataclass(frozen=True)
class SimilarityReport:
    rules: SimilarityRules
    similar: tuple[SimilarPair, ...]
    duplicate_files: tuple[DuplicateFile, ...]
    shared_fingerprints: tuple[SharedFingerprint, ...]
    no_text: tuple[str, ...]  # bids without any shingle (no extracted text): not compared
    compared_pairs: int = 0
    all_estimates: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)

    @property
    def flagged_pairs(self) -> tuple[tuple[str, str], ...]:
        """Every pair of bidders linked by at least one signal."""
        pairs: set[tuple[str, str]] = {(p.a, p.b) for p in self.similar}
        for group in [d.bidders for d in self.duplicate_files] + [
            s.bidders for s in self.shared_fingerprints
        ]:
            pairs |= {(a, b) for i, a in enumerate(group) for b in group[i + 1 :]}
        return tuple(sorted(pairs))


def units(text: str) -> list[str]:
    """The text as units: CJK ideographs one by one, other letters/digits as words."""
    return _UNITS.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, size: int = 3) -> set[str]:
    """The set of ``size``-unit shingles of ``text`` (a text shorter than ``size`` units is one
    shingle; an empty text none)."""
    us = units(text)
    if not us:
        return set()
    if len(us) <= size:
        return {_SEP.join(us)}
    return {_SEP.join(us[i : i + size]) for i in range(len(us) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> Decimal:
    """Exact Jaccard similarity, to 4 places (ROUND_HALF_UP); 0 for two empty sets."""
    union = len(a | b)
    if not union:
        return Decimal("0.0000")
    return div_exact(Decimal(len(a & b)), union).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def signatures(texts: Sequence[str], rules: SimilarityRules) -> list[MinHash | None]:
    """The MinHash of each text's shingles (``None`` for a text without shingles). Seeded, so the
    same inputs give the same signatures on any machine."""
    sets = [shingles(t, rules.shingle_size) for t in texts]
    hashes = MinHash.bulk(
        [[s.encode() for s in group] for group in sets],
        num_perm=rules.num_perm,
        seed=rules.seed,
        scheme="affine32",
    )
    return [h if s else None for h, s in zip(hashes, sets, strict=True)]


def compare(bids: Sequence[BidDocuments], rules: SimilarityRules | None = None) -> SimilarityReport:
    """The similarity signals among ``bids`` (see the module docstring)."""
    rules = rules or SimilarityRules()
    names = [b.bidder for b in bids]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidInput(
            _("%(bidder)s appears twice among the bids.") % {"bidder": ", ".join(repeated)},
            field="bids",
            rule="duplicate_bidder",
        )
    similar, estimates, compared, no_text = _text_pairs(bids, rules)
    return SimilarityReport(
        rules=rules,
        similar=similar,
        duplicate_files=_duplicate_files(bids, rules.ignore_sha256),
        shared_fingerprints=_shared_fingerprints(bids, rules.fingerprint_fields),
        no_text=no_text,
        compared_pairs=compared,
        all_estimates=estimates,
    )


def _text_pairs(
    bids: Sequence[BidDocuments], rules: SimilarityRules
) -> tuple[tuple[SimilarPair, ...], dict[tuple[str, str], Decimal], int, tuple[str, ...]]:
    sigs = signatures([b.text for b in bids], rules)
    present = [(b, s) for b, s in zip(bids, sigs, strict=True) if s is not None]
    no_text = tuple(sorted(b.bidder for b, s in zip(bids, sigs, strict=True) if s is None))
    present.sort(key=lambda bs: bs[0].bidder)
    if len(present) < 2:
        return (), {}, 0, no_text
    matrix = np.stack([s.hashvalues for _b, s in present])
    estimates: dict[tuple[str, str], Decimal] = {}
    flagged: list[tuple[BidDocuments, BidDocuments, int]] = []
    # matching / num_perm ≥ threshold  ⇔  matching ≥ threshold × num_perm (exact, no float).
    needed = rules.threshold * rules.num_perm
    for i in range(len(present) - 1):
        matches = (matrix[i + 1 :] == matrix[i]).sum(axis=1)
        for offset, count in enumerate(matches.tolist()):
            a, b = present[i][0], present[i + 1 + offset][0]
            estimates[(a.bidder, b.bidder)] = _estimate(count, rules.num_perm)
            if count >= needed:
                flagged.append((a, b, count))
    pairs = []
    cache: dict[str, set[str]] = {}

    def shingle_set(bid: BidDocuments) -> set[str]:
        if bid.bidder not in cache:
            cache[bid.bidder] = shingles(bid.text, rules.shingle_size)
        return cache[bid.bidder]

    for a, b, count in flagged:
        sa, sb = shingle_set(a), shingle_set(b)
        pairs.append(
            SimilarPair(
                a=a.bidder,
                b=b.bidder,
                estimate=_estimate(count, rules.num_perm),
                matching=count,
                exact=jaccard(sa, sb),
                shared_shingles=len(sa & sb),
            )
        )
    pairs.sort(key=lambda p: (-p.estimate, p.a, p.b))
    n = len(present)
    return tuple(pairs), estimates, n * (n - 1) // 2, no_text


def _estimate(matching: int, num_perm: int) -> Decimal:
    return div_exact(Decimal(matching), num_perm).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def _duplicate_files(
    bids: Iterable[BidDocuments], ignore: frozenset[str]
) -> tuple[DuplicateFile, ...]:
    by_hash: dict[str, list[tuple[str, str]]] = defaultdict(list)
    ignored = {h.lower() for h in ignore}
    for bid in bids:
        for name, digest in bid.files.items():
            if digest.lower() not in ignored:
                by_hash[digest.lower()].append((bid.bidder, name))
    return tuple(
        DuplicateFile(digest, tuple(sorted(copies)))
        for digest, copies in sorted(by_hash.items())
        if len({b for b, _n in copies}) > 1
    )


def _shared_fingerprints(
    bids: Iterable[BidDocuments], fields: Sequence[str]
) -> tuple[SharedFingerprint, ...]:
    found: list[SharedFingerprint] = []
    for name in fields:
        by_value: dict[str, set[str]] = defaultdict(set)
        for bid in bids:
            value = (bid.fingerprint.get(name) or "").strip()
            if value:
                by_value[value].add(bid.bidder)
        found.extend(
            SharedFingerprint(name, value, tuple(sorted(bidders)))
            for value, bidders in sorted(by_value.items())
            if len(bidders) > 1
        )
    return tuple(found)
