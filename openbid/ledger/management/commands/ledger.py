"""``openbid ledger verify [--url URL --checkpoint FILE [--key VKEY]]`` and ``openbid ledger checkpoint``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Verify the ledger end to end, or a remote platform against a saved checkpoint."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="verify the log")
        verify.add_argument("--url", help="base URL of a remote platform to verify")
        verify.add_argument("--checkpoint", help="a checkpoint of that platform saved earlier")
        verify.add_argument("--key", help="the remote log's verifier key (pins it)")
        sub.add_parser("checkpoint", help="issue a checkpoint now and print it")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        from openbid.ledger import services, verify

        if action == "checkpoint":
            self.stdout.write(services.issue_checkpoint().note, ending="")
            return
        if opts.get("url"):
            if not opts.get("checkpoint"):
                raise CommandError("--url needs --checkpoint FILE (a checkpoint saved earlier)")
            saved = Path(opts["checkpoint"]).read_text()
            report = verify.verify_remote(
                opts["url"], saved, self.stdout.write, key=opts.get("key")
            )
        else:
            report = verify.verify_local(self.stdout.write)
        if not report.passed:
            raise CommandError(f"verification failed: {report.problems[0]}")
        self.stdout.write("verified")
