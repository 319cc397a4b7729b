"""``openbid manage ledger_witness``: this platform as a witness of other logs (C2SP tlog-witness).

* ``key`` prints this platform's witness verifier key (tlog-cosignature), to give to the operators
  of the logs it witnesses;
* ``add-log --origin O --key VKEY [--key VKEY …] --as USERNAME`` starts witnessing the log ``O``,
  acting as the named centre staff member (the change is a recorded event with that actor);
* ``cosign`` asks the configured witnesses to cosign the latest checkpoint now and prints the results.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Witness other transparency logs, or ask the configured witnesses to cosign ours."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("key", help="print this platform's witness verifier key")
        add = sub.add_parser("add-log", help="witness another log")
        add.add_argument("--origin", required=True, help="the log's checkpoint origin line")
        add.add_argument(
            "--key",
            action="append",
            required=True,
            dest="keys",
            help="a verifier key of the log (repeat for several)",
        )
        add.add_argument(
            "--as", required=True, dest="username", help="login of the centre staff member acting"
        )
        sub.add_parser(
            "cosign", help="ask the configured witnesses to cosign our latest checkpoint"
        )

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        from openbid.core.errors import DomainError
        from openbid.ledger import keys, services, witness

        if action == "key":
            self.stdout.write(keys.witness_verifier_key())
            return
        if action == "cosign":
            results = witness.request_cosignatures()
            if not results:
                self.stdout.write("no witness asked (no checkpoint, or no active witness)")
            for name, outcome in results.items():
                self.stdout.write(f"{'ok' if outcome.ok else 'FAIL'}  {name}: {outcome.message}")
            if any(not outcome.ok for outcome in results.values()):
                raise CommandError("some witnesses did not cosign")
            return

        from openbid.accounts.models import User

        actor = User.objects.filter(username=opts["username"], is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {opts['username']!r}")
        try:
            log = services.witness_log(actor, origin=opts["origin"], verifier_keys=opts["keys"])
        except DomainError as error:
            raise CommandError(f"{error.field or ''}: {error} [{error.rule}]") from error
        self.stdout.write(
            f"Witnessing {log.origin}; this witness's key: {keys.witness_verifier_key()}"
        )
