"""``openbid manage bootstrap``: create the trading centre and its first administrator.

Only works on a platform with no trading centre yet; after that, centre staff create public bodies
and people through the web, the API or the admin. The password comes from
``OPENBID_BOOTSTRAP_PASSWORD`` or an interactive prompt, never from the command line.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from openbid.accounts import services
from openbid.accounts.roles import OrgType, Role
from openbid.core.errors import DomainError


class Command(BaseCommand):
    help = "Create the trading centre and its first administrator on an empty platform."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True, help="the trading centre's name")
        parser.add_argument("--credit-code", required=True, help="unified social credit code")
        parser.add_argument("--region", required=True, help="GB/T 2260 region code")
        parser.add_argument("--admin", required=True, help="login name of the administrator")
        parser.add_argument("--admin-name", default="", help="the administrator's name")

    def handle(self, *args: Any, **opts: Any) -> None:
        password = os.environ.get("OPENBID_BOOTSTRAP_PASSWORD") or getpass.getpass(
            f"Password for {opts['admin']}: "
        )
        try:
            with transaction.atomic():  # the centre and its administrator, or neither
                centre = services.create_public_body(
                    None,
                    name=opts["name"],
                    credit_code=opts["credit_code"],
                    org_type=OrgType.TRADING_CENTRE,
                    region_code=opts["region"],
                )
                services.add_person(
                    None,
                    centre,
                    username=opts["admin"],
                    password=password,
                    role=Role.CENTRE_STAFF,
                    display_name=opts["admin_name"],
                    is_admin=True,
                )
        except DomainError as error:
            raise CommandError(f"{error.field or ''}: {error} [{error.rule}]") from error
        self.stdout.write(
            f"Created {centre.name} ({centre.credit_code}); administrator {opts['admin']}."
        )
