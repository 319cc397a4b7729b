"""The deposit part of the demo's completed tender, made through the services: every bidder
registers its basic account; all but one pay their deposit into their sub-accounts (a bank
statement imported by the centre); the last obtains an e-guarantee from the built-in test issuer,
one-stop; after the opening, the deposit findings are recorded for the opening and evaluation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from openbid.accounts.credit_code import generate_credit_code
from openbid.core import clock
from openbid.crypto.testca import TestCA
from openbid.deposits import guarantees, services, testissuer
from openbid.deposits.models import GuaranteeIssuer, SubAccount
from openbid.tendering.models import Tender

ISSUER_NAME = "示范融资担保有限公司"


def _basic_account_number(n: int) -> str:
    return f"62220210{n:011d}"


def _issuer(staff: Any, ca: TestCA, region: str) -> GuaranteeIssuer:
    code = generate_credit_code("9", "1", region, "MA2DEM010")
    existing = GuaranteeIssuer.objects.filter(credit_code=code).first()
    if existing is not None:
        return existing
    person = testissuer.issue_certificate(
        ca, name=ISSUER_NAME, credit_code=code, not_before=clock.now() - dt.timedelta(days=30)
    )
    return guarantees.register_issuer(
        staff,
        name=ISSUER_NAME,
        kind="guarantor",
        certificate_pem=person.signing_certificate_pem,
        api_url=guarantees.BUILTIN_TEST,
        fee_percent="0.5",
    )


def pay_deposits(
    people: dict[str, Any],
    tender: Tender,
    logins: Sequence[str],
    *,
    guarantee_login: str,
    ca: TestCA,
) -> list[str]:
    """Before the bid deadline: basic accounts, cash deposits, and one e-guarantee."""
    _centre, staff = people["centre"]
    section = tender.sections.get()
    out: list[str] = []
    lines = []
    for n, login in enumerate(logins, start=1):
        org, user = people[login]
        account = _basic_account_number(n)
        services.register_basic_account(
            user,
            bank_name="示范银行杭州分行",
            account_name=org.name,
            account_number=account,
        )
        sub = services.open_sub_account(user, section)
        if login == guarantee_login:
            continue
        booked = clock.now() - dt.timedelta(minutes=10 * (len(logins) - n + 1))
        lines.append(
            ",".join(
                [
                    f"DEMO{tender.pk:04d}{n:04d}",
                    booked.isoformat(),
                    f"{sub.amount_due:.2f}",
                    "CNY",
                    sub.number,
                    account,
                    org.name,
                    "示范银行杭州分行",
                    "投标保证金",
                ]
            )
        )
    data = ("\ufeff" + "\r\n".join([",".join(services.CSV_COLUMNS), *lines]) + "\r\n").encode()
    result = services.import_statement(
        staff, bank=services._bank_code(), data=data, filename="demo-statement.csv"
    )
    sample = SubAccount.objects.filter(section=section).first()
    out.append(
        f"  bidders registered their basic accounts; the centre imported the bank statement: "
        f"{result.new} deposits of {sample.amount_due if sample else 0:,.2f} yuan each (the "
        f"section's 300,000.00 less the credit reduction), matched to their sub-accounts"
    )
    issuer = _issuer(staff, ca, tender.project.region_code)
    _org, user = people[guarantee_login]
    app = guarantees.apply_for_guarantee(user, section, issuer)
    guarantees.pay_guarantee_fee(user, app, payment_reference=f"DEMO-FEE-{app.pk}")
    app = guarantees.issue_guarantee(user, app)
    out.append(
        f"  {guarantee_login} obtained e-guarantee one-stop from {issuer.name}: "
        f"{app.amount:,.2f} yuan, fee {app.fee:,.2f} yuan, invoice {app.invoice_number}"
    )
    return out


def record_findings(actor: Any, tender: Tender) -> str:
    """After the deadline: the deposit findings of every bid."""
    findings = services.record_opening_findings(actor, tender)
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.status] = counts.get(finding.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"deposit findings recorded for the opening: {summary}"
