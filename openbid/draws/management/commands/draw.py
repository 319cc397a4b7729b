"""``openbid draw verify <id>``, ``openbid draw verify --file draw.json [--key VKEY]``,
``openbid draw export <id>``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Recompute and verify a verifiable draw, or export it for verification elsewhere."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute a draw and check it against the ledger")
        verify.add_argument("draw", nargs="?", type=int, help="the draw's id on this platform")
        verify.add_argument("--file", help="an exported draw (GET /api/v1/draws/{id})")
        verify.add_argument("--key", help="the log's verifier key (pins it; with --file)")
        export = sub.add_parser("export", help="print a draw's export (JSON)")
        export.add_argument("draw", type=int)

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        from openbid.draws import services, verify
        from openbid.draws.models import Draw

        if action == "export":
            try:
                draw = services.get_draw(opts["draw"])
            except Exception as exc:
                raise CommandError(f"no draw {opts['draw']}") from exc
            doc = services.export_draw(draw, full=True)
            self.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2))
            return
        if opts.get("file"):
            try:
                doc = json.loads(Path(opts["file"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {opts['file']}: {exc}") from exc
            if not isinstance(doc, dict):
                raise CommandError(f"{opts['file']} is not a draw export")
            report = verify.verify_export(doc, self.stdout.write, key=opts.get("key"))
        elif opts.get("draw") is not None:
            if not Draw.objects.filter(pk=opts["draw"]).exists():
                raise CommandError(f"no draw {opts['draw']}")
            report = verify.verify_stored(opts["draw"], self.stdout.write)
        else:
            raise CommandError("name a draw id, or --file draw.json")
        if not report.passed:
            raise CommandError(f"verification failed: {report.problems[0]}")
        self.stdout.write("verified")
