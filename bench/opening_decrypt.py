"""Opening speed: decrypting and verifying sealed bids, against raw decryption of the same bytes.

    python bench/opening_decrypt.py [--bids 300] [--mib 10] [--suite intl-2026|sm-2026|both]

For each bid the opening does what ``opening`` does when a bidder releases the data key: hash
the stored ciphertext and compare it with the receipt, decrypt with the data key, hash the
plaintext and compare it with the signed commitment, verify the bidder's signature, and parse the
package (manifest and file hashes). The baseline is the suite's AEAD alone over each bid's own
ciphertext with its own key, nonce and associated data (AES-256-GCM for intl-2026, SM4-GCM for
sm-2026), measured in the same run on the same bytes in memory.
Bids are generated in memory first (not timed).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bids", type=int, default=300)
    parser.add_argument("--mib", type=float, default=10)
    parser.add_argument("--suite", default="both", choices=["intl-2026", "sm-2026", "both"])
    args = parser.parse_args()

    from openbid.bidding import package
    from openbid.crypto.suites import get_suite, parse_envelope

    size = int(args.mib * 1024 * 1024)
    suites = ["intl-2026", "sm-2026"] if args.suite == "both" else [args.suite]
    for name in suites:
        suite = get_suite(name)
        signing = suite.generate_signing_key()
        recipient = suite.generate_encryption_key()
        body = os.urandom(size)
        bids = []
        t = time.perf_counter()
        for i in range(args.bids):
            plaintext = package.build(
                {"商务标.pdf": body[:1024] + i.to_bytes(4, "big"), "技术标.pdf": body},
                {"price": f"{1000000 + i}.00", "duration_days": 360},
                tool="bench",
                machine="bench",
            )
            envelope = suite.seal([recipient.public], plaintext, b"openbid-bid section 1")
            commitment = suite.hash(plaintext)
            signature = suite.sign(signing.private, commitment)
            data_key = suite.unwrap(recipient.private, envelope)
            bids.append(
                (envelope, hashlib.sha256(envelope).hexdigest(), commitment, signature, data_key)
            )
        setup = time.perf_counter() - t

        # Baseline: the suite's AEAD alone over each bid's own ciphertext, with its own key,
        # nonce and associated data (key derivation and parsing excluded, not timed), so both
        # sides touch the same bytes in memory.
        prepared = []
        for envelope, _sha, _c, _s, data_key in bids:
            parsed = parse_envelope(envelope)
            key = suite._derive(data_key, parsed.message_id, b"DERIVEKEY", suite._aead_key_size)
            prepared.append(
                (key, parsed.nonce, parsed.ciphertext, parsed.header + b"openbid-bid section 1")
            )
        t = time.perf_counter()
        for key, nonce, ciphertext, aad in prepared:
            suite._aead_decrypt(key, nonce, ciphertext, aad)
        raw = time.perf_counter() - t
        del prepared

        t = time.perf_counter()
        prices = []
        for envelope, receipt_sha, commitment, signature, data_key in bids:
            assert hashlib.sha256(envelope).hexdigest() == receipt_sha
            plaintext = suite.open_with_data_key(data_key, envelope, b"openbid-bid section 1")
            assert suite.hash(plaintext) == commitment
            assert suite.verify(signing.public, commitment, signature)
            prices.append(package.read(plaintext).price)
        opening = time.perf_counter() - t
        total_mib = args.bids * size / 2**20
        print(f"{name}: {args.bids} bids of {args.mib:g} MiB (setup {setup:.1f} s, not timed)")
        print(f"  raw AEAD decryption : {total_mib / raw:8.1f} MiB/s")
        print(
            f"  opening (verify all): {total_mib / opening:8.1f} MiB/s   ratio {raw / opening:5.2f}"
        )
        assert len(prices) == args.bids


if __name__ == "__main__":
    main()
