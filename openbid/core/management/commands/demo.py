"""``openbid demo``: a fresh demo scenario, made through the services only.

It prints every step, and the login names and password of the demo people, one per role. Later
contexts extend ``openbid.demo`` until the scenario runs a whole tender from plan to contract.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from openbid.demo import DEMO_PASSWORD, demo_present, run_demo


class Command(BaseCommand):
    help = "Create a fresh demo scenario through the services and print what it did."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--skip-if-present",
            action="store_true",
            help="do nothing when the demo organisations already exist",
        )

    def handle(self, *args: Any, skip_if_present: bool = False, **options: Any) -> None:
        if demo_present():
            if skip_if_present:
                self.stdout.write("Demo data is already present.")
                self.stdout.write(f"Demo logins use the password: {DEMO_PASSWORD}")
                return
            self.stdout.write("Demo data is already present; nothing to do.")
            return
        with transaction.atomic():  # a half-made demo would only confuse
            lines = list(run_demo())
        for line in lines:
            self.stdout.write(line)
