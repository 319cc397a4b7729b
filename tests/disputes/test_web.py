"""Disputes pages: each party's view, the regulator's forms, letters, public decisions, feedback,
the responsibility list, and the hold shown on the tender page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openbid.disputes import services
from openbid.disputes.models import Complaint, Feedback, Objection, ResponsibilityEntry
from tests.disputes.helpers import world
from tests.factories import market_entity
from tests.tendering.factories import at

pytestmark = pytest.mark.django_db


def test_objection_pages_and_the_hold_on_the_tender_page(client, clock):
    w = world(clock)
    client.force_login(w.bidder_user)
    url = reverse("disputes:objection_new", args=[w.tender.pk])
    assert client.get(url).status_code == 200
    r = client.post(url, {"matter": "tender_docs", "text": "资格条件排斥外地投标人。"})
    objection = Objection.objects.get()
    assert r.status_code == 302 and r.url == reverse("disputes:objection", args=[objection.pk])
    page = client.get(reverse("tendering:tender", args=[w.tender.pk])).content.decode()
    assert 'data-testid="hold"' in page and objection.reference in page
    # A second objection on the same matter is refused on the form, nothing written.
    r = client.post(url, {"matter": "tender_docs", "text": "again"})
    assert r.status_code == 422 and Objection.objects.count() == 1

    client.force_login(w.manager)
    page = client.get(reverse("disputes:objection", args=[objection.pk])).content.decode()
    assert 'data-testid="reply-form"' in page
    clock.advance(hours=3)
    client.post(reverse("disputes:objection_reply", args=[objection.pk]), {"reply": "维持。"})
    objection.refresh_from_db()
    assert objection.status == "answered"
    letter = reverse("disputes:letter", args=["objection", objection.pk, "objection_reply"])
    assert "异议答复函" in client.get(letter).content.decode()
    txt = client.get(letter + "?format=txt")
    assert txt["Content-Type"].startswith("text/plain") and "维持。" in txt.content.decode()
    page = client.get(reverse("tendering:tender", args=[w.tender.pk])).content.decode()
    assert 'data-testid="hold"' not in page

    stranger = market_entity()[1]
    client.force_login(stranger)
    assert client.get(reverse("disputes:objection", args=[objection.pk])).status_code == 404
    assert client.get(letter).status_code == 404


def test_complaint_pages_for_each_party_and_the_public(client, clock):
    w = world(clock)
    client.force_login(w.bidder_user)
    url = reverse("disputes:complaint_new", args=[w.tender.pk])
    page = client.get(url).content.decode()
    assert w.regulator.name in page
    r = client.post(
        url,
        {
            "matter": "other",
            "knew_on": "2026-03-02",
            "text": "代理机构泄露评标专家名单。",
            "requests": "查处",
        },
    )
    complaint = Complaint.objects.get()
    assert r.status_code == 302
    index = client.get(reverse("disputes:index")).content.decode()
    assert complaint.reference in index

    client.force_login(w.officer)
    detail = reverse("disputes:complaint", args=[complaint.pk])
    assert 'data-testid="accept"' in client.get(detail).content.decode()
    client.post(reverse("disputes:act", args=[complaint.pk, "accept"]))
    client.post(
        reverse("disputes:act", args=[complaint.pk, "suspend"]),
        {"reason": "调查期间暂停。", "steps": ["open"]},
    )
    assert services.holds_of(w.tender.pk)[0].steps == ("open",)
    client.post(reverse("disputes:act", args=[complaint.pk, "hearing"]), {"text": "询问笔录"})
    clock.set(at("2026-03-04 10:00"))
    r = client.post(
        reverse("disputes:act", args=[complaint.pk, "decide"]),
        {
            "outcome": "dismissed",
            "decision_number": "杭发改投诉〔2026〕3号",
            "findings": "经调查，未发现泄露评标专家名单的事实。",
        },
    )
    assert r.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "decided"
    assert services.holds_of(w.tender.pk) == []

    client.logout()
    public = client.get(reverse("disputes:decisions")).content.decode()
    assert "杭发改投诉〔2026〕3号" in public and w.bidder.name not in public
    one = client.get(reverse("disputes:decision", args=[complaint.pk])).content.decode()
    assert "依法不公开" in one and w.bidder.name not in one
    assert client.get(detail).status_code == 302  # sign in first
    letter = reverse("disputes:letter", args=["complaint", complaint.pk, "complaint_decision"])
    assert w.bidder.name not in client.get(letter).content.decode()
    receipt = reverse("disputes:letter", args=["complaint", complaint.pk, "complaint_receipt"])
    assert client.get(receipt).status_code == 404
    assert client.get(reverse("disputes:figures")).status_code == 200


def test_feedback_and_responsibility_list(client, clock):
    w = world(clock)
    client.force_login(w.bidder_user)
    r = client.post(
        reverse("disputes:feedback"),
        {"kind": "suggestion", "subject": "增加移动端", "text": "希望提供移动端开标大厅。"},
    )
    assert r.status_code == 302
    item = Feedback.objects.get()
    assert item.answer_due == at("2026-03-06 00:00")
    client.force_login(w.staff)
    client.post(reverse("disputes:feedback_detail", args=[item.pk]), {"answer": "已列入计划。"})
    item.refresh_from_db()
    assert item.answered_at is not None
    page = client.get(reverse("disputes:responsibilities")).content.decode()
    assert w.regulator.name in page
    entry = ResponsibilityEntry.objects.get(active=True)
    client.post(reverse("disputes:responsibilities"), {"retire": entry.pk})
    assert not ResponsibilityEntry.objects.filter(active=True).exists()
    client.force_login(w.bidder_user)
    r = client.post(
        reverse("disputes:responsibilities"),
        {
            "region_code": "330100",
            "industry": "",
            "regulator": w.regulator.credit_code,
            "basis": "x",
        },
    )
    assert r.status_code == 403
