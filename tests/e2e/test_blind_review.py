"""An expert in a real browser: signs in at a venue with their certificate, reads the technical
bids under codes in their own order (no bidder named), scores them, submits and signs the scores;
the last signature reveals the mapping."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.urls import reverse

from openbid.crypto.document_message import signing_message
from openbid.crypto.suites import get_suite
from openbid.evaluation import session as evaluation
from openbid.evaluation.models import EvaluationSession
from tests.e2e.test_opening_room import new_page
from tests.evaluation.session_helpers import SUITE, started
from tests.evaluation.test_session import T1

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_page(page: Any, r: Any, member: Any) -> None:
    """Fill the page's sign form with a signature made over the SHA-256 it shows."""
    form = page.locator("[data-testid=sign-form]").first
    kind = form.get_attribute("data-kind")
    document_id = int(form.get_attribute("data-id"))
    sha256 = form.get_attribute("data-sha256")
    key = r.keys[member.pk]
    signature = get_suite(SUITE).sign(key.private, signing_message(kind, document_id, sha256))
    form.locator("[data-testid=sign-signature]").fill(base64.b64encode(signature).decode())
    form.locator("[data-testid=sign-public-key]").fill(base64.b64encode(key.public).decode())
    form.locator("[data-testid=sign-submit]").click()


def test_an_expert_reviews_blind_and_signs_the_scores(browser, live_server, clock):
    r = started(clock)
    s = r.session()
    me, *others = r.members
    venues = list(s.venues.order_by("pk"))
    for n, m in enumerate(others):
        attendance = evaluation.check_in(r.user(m), s, venue=venues[n % 2])
        r.sign(m, evaluation.SIGN_IN_KIND, attendance.pk)
        rows = [
            {
                "bid": evaluation.code_of(s, r.bid_of(p).pk),
                "criterion": "T1",
                "points": str(v[n + 1]),
                "reason": "方案缺少关键工序" if v[n + 1] == 12 else "",
            }
            for p, v in T1.items()
        ]
        evaluation.save_scores(r.user(m), s, "technical", rows)
        evaluation.submit_sheet(r.user(m), s, "technical")

    page = new_page(browser, live_server, r.user(me).username)
    page.goto(f"{live_server.url}{reverse('evaluation:my_assignments')}")
    page.click("[data-testid=session-link]")
    page.wait_for_selector("[data-testid=check-in-form]")
    page.select_option("[data-testid=check-in-form] select", str(venues[1].pk))
    page.click("[data-testid=check-in-form] button")
    page.wait_for_selector("[data-testid=sign-form]")
    sign_in_page(page, r, me)
    page.wait_for_selector("[data-testid=signed-in]")

    page.click("[data-testid=blind-link]")
    page.wait_for_selector("[data-testid=blind-list]")
    text = page.inner_text("main")
    for sealed in r.sealed:
        assert sealed.org.name not in text
    codes = [
        row.get_attribute("data-code") for row in page.locator("[data-testid=blind-row]").all()
    ]
    assert codes == [row["code"] for row in evaluation.blind_list(r.user(me), s)]
    by_code = {evaluation.code_of(s, r.bid_of(p).pk): v[0] for p, v in T1.items()}
    for code in codes:
        page.fill(f"input[name='score__{code}__T1']", str(by_code[code]))
    page.click("[data-testid=save-scores]")
    page.wait_for_selector("[data-testid=submit-scores]")
    page.click("[data-testid=submit-scores]")
    page.wait_for_selector("[data-testid=sign-form]")

    for m in others:
        r.sign(m, evaluation.SCORES_KIND, evaluation.sheet_for(r.user(m), s, "technical").pk)
    assert EvaluationSession.objects.get(pk=s.pk).revealed_at is None
    page.reload()
    sign_in_page(page, r, me)
    page.wait_for_selector("[data-testid=sheet-signed]")
    s.refresh_from_db()
    assert s.revealed_at is not None and s.status == EvaluationSession.Status.COMMERCIAL
    assert evaluation.verify_blind(s).codes == {int(k): v for k, v in s.blind_codes.items()}
    page.goto(f"{live_server.url}{reverse('evaluation:session', args=[r.tender.pk])}")
    page.wait_for_selector("[data-testid=session-status][data-status=commercial]")
