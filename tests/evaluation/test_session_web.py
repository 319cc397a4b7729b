"""The evaluation pages: start, the blind review without names, sign-in by a pasted signature,
progress for managers, the bidders' clarification answers, the report download after completion."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from openbid.evaluation import session as evaluation
from openbid.evaluation.models import ClarificationRequest, EvaluationSession
from tests.evaluation.session_helpers import ready, started

pytestmark = pytest.mark.django_db


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    client.cookies["openbid_language"] = "en"
    return client


def test_managers_start_the_evaluation_on_the_page(client: Client, clock: Any) -> None:
    r = ready(clock)
    url = reverse("evaluation:session", args=[r.tender.pk])
    signed_in(client, r.manager)
    assert b"start-form" in client.get(url).content
    client.post(
        reverse("evaluation:session_action", args=[r.tender.pk, "start"]),
        {
            "main_name": "评标室3",
            "main_region": "330100",
            "secondary_name": "副场1",
            "secondary_region": "440100",
        },
    )
    s = EvaluationSession.objects.get(tender=r.tender)
    assert s.venues.count() == 2
    page = client.get(url).content.decode()
    assert 'data-status="technical"' in page
    # Bidders do not follow the evaluation while it runs.
    signed_in(client, r.sealed[0].user)
    assert client.get(url).status_code == 404


def test_the_blind_page_names_no_bidder_and_the_sign_form_signs(client: Client, clock: Any) -> None:
    r = started(clock)
    s = r.session()
    me = r.members[0]
    signed_in(client, r.user(me))
    action = lambda a: reverse("evaluation:session_action", args=[r.tender.pk, a])  # noqa: E731
    client.post(action("check_in"), {"venue": s.venues.first().pk})
    attendance = s.attendance.get(member=me)
    page = client.get(reverse("evaluation:session", args=[r.tender.pk])).content.decode()
    assert attendance.sha256 in page
    body = r.body(me, evaluation.SIGN_IN_KIND, attendance.pk, attendance.sha256)
    client.post(
        action("sign"), {"kind": evaluation.SIGN_IN_KIND, "document_id": attendance.pk, **body}
    )
    attendance.refresh_from_db()
    assert attendance.signed_in_at is not None
    blind = client.get(reverse("evaluation:blind", args=[r.tender.pk])).content.decode()
    for sealed in r.sealed:
        assert sealed.org.name not in blind
    assert "技术标" not in blind
    for code in s.blind_codes.values():
        assert code in blind
    code = next(iter(s.blind_codes.values()))
    file = client.get(reverse("evaluation:blind_file", args=[r.tender.pk, code, 1]))
    assert file.status_code == 200 and file.content.startswith(b"%PDF")
    client.post(action("scores"), {"part": "technical", f"score__{code}__T1": "31"})
    assert not s.sheets.get(member=me, part="technical").scores.exists()  # out of range: refused
    client.post(action("scores"), {"part": "technical", f"score__{code}__T1": "20"})
    assert s.sheets.get(member=me, part="technical").scores.get().points == 20
    # Someone not on the committee sees no blind review.
    signed_in(client, r.manager)
    assert client.get(reverse("evaluation:blind", args=[r.tender.pk])).status_code == 403


def test_bidders_answer_clarification_requests_on_their_page(client: Client, clock: Any) -> None:
    r = started(clock, prices=("9600000.00", "7000000.00", "9900000.00"))
    request = ClarificationRequest.objects.get()
    bidder = next(x for x in r.sealed if x.bid == request.bid.bid)
    signed_in(client, bidder.user)
    url = reverse("evaluation:my_clarifications")
    assert request.question in client.get(url).content.decode()
    client.post(url, {"request": request.pk, "answer": "主材自有，有发票"})
    request.refresh_from_db()
    assert request.answer == "主材自有，有发票"
