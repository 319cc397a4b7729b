"""Entry points run in a separate process by ``test_server_restart``: prepare a platform (migrate,
a published one-section tender, bidders with certified signing keys and API tokens) and serve it
with the real ``openbid serve`` on a frozen platform clock.

    python -m tests.bidding.server_process setup    # prints JSON: section, tender, bidders
    python -m tests.bidding.server_process serve --port N

Both read the platform from the environment as ``openbid`` does (``OPENBID_HOME``,
``DATABASE_URL``); the clock is frozen at ``OPENBID_TEST_CLOCK`` (ISO 8601, with offset). The
platform has no environment switch for its clock, and a deterministic clock keeps the tender's
schedule inside the holiday calendar whatever the real date is.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import sys

CLOCK_VARIABLE = "OPENBID_TEST_CLOCK"
SUITE = "intl-2026"
#: When the setup runs: the start of the whole suite's frozen clock (tests/conftest.py).
SETUP_AT = "2026-03-02T09:00:00+08:00"


def _freeze() -> None:
    from openbid.core import clock

    clock.freeze(dt.datetime.fromisoformat(os.environ.get(CLOCK_VARIABLE, SETUP_AT)))


def setup(bidders: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openbid.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # As in tests/conftest.py: PBKDF2 would dominate the setup time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", interactive=False, verbosity=0)
    _freeze()

    from openbid.accounts.services import issue_api_token
    from openbid.core import clock
    from openbid.crypto.suites import get_suite
    from openbid.tendering import services as tendering
    from tests.certificates import certify
    from tests.factories import market_entity
    from tests.opening.helpers import one_section_tender

    tender, _manager = one_section_tender()
    clock.freeze(tender.doc_issue_start + dt.timedelta(minutes=1))
    section = tender.sections.get()
    suite = get_suite(SUITE)
    people = {}
    for name in bidders:
        org, user = market_entity()
        tendering.obtain_documents(user, tender)
        signing = suite.generate_signing_key()
        certify(user, org, SUITE, signing)
        _row, token = issue_api_token(user, name=f"restart test {name}")
        people[name] = {
            "organisation": org.pk,
            "credit_code": org.credit_code,
            "token": token,
            "signing_key": base64.b64encode(signing.private).decode(),
            "public_key": base64.b64encode(signing.public).decode(),
        }
    json.dump(
        {
            "tender": tender.pk,
            "section": section.pk,
            "bid_deadline": tender.bid_deadline.isoformat(),
            "setup_done_at": clock.now().isoformat(),
            "bidders": people,
        },
        sys.stdout,
    )
    return 0


def serve(argv: list[str]) -> int:
    """The real server (``openbid serve``: migrate, then waitress), the platform clock frozen."""
    _freeze()
    from openbid.cli import main

    return main(["serve", "--no-worker", *argv])


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "setup":
        sys.exit(setup(rest))
    if command == "serve":
        sys.exit(serve(rest))
    sys.exit(f"unknown command {command!r}")
