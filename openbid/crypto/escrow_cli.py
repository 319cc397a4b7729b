"""``openbid escrow``: make a tender's key escrow off the platform, and check a share.

    openbid escrow create --suite sm-2026 --threshold 2 \\
        --custodian 12330000MB0000001X --custodian 11330000MB0000002Y --custodian 91330000MA000003Z \\
        --out escrow/
    openbid escrow check escrow/escrow.json escrow/share-12330000MB0000001X.txt

``create`` writes, in a new folder:

* ``escrow.json`` — the public record to register with the tender (web page or
  ``PUT /api/v1/tenders/{id}/escrow``); nothing in it decrypts anything;
* ``escrow.pub`` — the escrow public key (PEM), which bidders add with ``openbid-bidder seal --to``
  (they can also download it from the tender's page);
* ``share-<credit code>.txt`` — one SLIP-0039 share per custodian (mode 0600). Hand each to its
  custodian by a channel of your choice, then delete it here: the platform never sees a share
  until the custodian gives it at an opening.

It needs no Django settings and no database; run it on a machine the custodians trust (ideally
in their presence, offline). ``check`` lets a custodian confirm, at any time, that its share
belongs to the record, without revealing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from openbid.accounts.credit_code import ALPHABET, LENGTH, _check_value
from openbid.crypto import escrow
from openbid.crypto.suites import SUITES, KeyUse, get_suite

PROG = "openbid escrow"


def _write(path: Path, data: bytes, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def cmd_create(args: argparse.Namespace) -> int:
    custodians = [code.strip().upper() for code in args.custodian]
    for code in custodians:
        # GB 32100 shape and check character, without Django: the platform checks at registration
        # that each custodian is an organisation in good standing.
        if (
            len(code) != LENGTH
            or any(c not in ALPHABET for c in code)
            or _check_value(code[:-1]) != code[-1]
        ):
            print(
                f"{PROG}: custodian {code} is not a unified social credit code (GB 32100)",
                file=sys.stderr,
            )
            return 2
    try:
        public, shares = escrow.create_escrow(
            args.suite, threshold=args.threshold, custodians=custodians
        )
    except ValueError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    targets = [out / "escrow.json", out / "escrow.pub", *(out / f"share-{c}.txt" for c in shares)]
    existing = [str(p) for p in targets if p.exists()]
    if existing:
        print(f"{PROG}: {', '.join(existing)} exist; choose a new folder", file=sys.stderr)
        return 2
    suite = get_suite(public.suite)
    _write(
        out / "escrow.json",
        (json.dumps(public.to_dict(), indent=2, ensure_ascii=False) + "\n").encode(),
        0o644,
    )
    _write(out / "escrow.pub", suite.public_key_to_pem(public.public_key, KeyUse.ENCRYPTION), 0o644)
    for custodian, mnemonic in shares.items():
        _write(out / f"share-{custodian}.txt", (mnemonic + "\n").encode(), 0o600)
    del shares
    print(
        f"escrow {public.key_id.hex()}: {public.threshold} of {public.count} custodians, "
        f"suite {public.suite}\n"
        f"register {out / 'escrow.json'} with the tender; hand each share-<code>.txt to its "
        "custodian and delete it here"
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        record = escrow.EscrowPublic.from_dict(json.loads(Path(args.record).read_text()))
        share = escrow.check_share(record, Path(args.share).read_text().strip())
    except (OSError, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    print(f"share {share.index} of escrow {record.key_id.hex()}, held by {share.custodian}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="a new escrow key, split among custodians")
    create.add_argument("--suite", choices=sorted(SUITES), required=True)
    create.add_argument("--threshold", type=int, required=True, help="shares needed (k)")
    create.add_argument(
        "--custodian",
        action="append",
        required=True,
        help="a custodian organisation's credit code (repeat for each: n)",
    )
    create.add_argument("--out", required=True, help="a new folder for the files")
    create.set_defaults(func=cmd_create)
    check = sub.add_parser("check", help="check that a share belongs to an escrow record")
    check.add_argument("record")
    check.add_argument("share")
    check.set_defaults(func=cmd_check)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
