"""The demo scenario: from an empty database to a published tender with a clarification, all
through the services, with a ledger that verifies; and on days the holiday calendar does not
cover, the organisations without the tender."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from openbid.accounts.models import Organisation
from openbid.core import workdays
from openbid.core.models import DomainEvent
from openbid.demo import demo_pdf, demo_schedule, run_demo
from openbid.ledger.models import Entry
from openbid.tendering.lifecycle import State
from openbid.tendering.models import (
    Clarification,
    DocumentObtainer,
    Notice,
    Project,
    Question,
    Tender,
    TenderPlan,
)

pytestmark = pytest.mark.django_db

CN = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


def test_demo_runs_a_tender_and_the_ledger_verifies(clock):
    assert not Organisation.objects.exists()
    out = io.StringIO()
    call_command("demo", stdout=out)
    output = out.getvalue()

    project = Project.objects.get()
    assert project.code == "2026-330100-48-01-000001"
    assert project.tenderer.name == "示范城市建设投资集团有限公司"
    assert project.agency is not None and project.agency.name == "诚信工程咨询有限公司"
    assert TenderPlan.objects.get().project == project
    tender = Tender.objects.get()
    assert tender.status == State.PUBLISHED
    assert tender.sections.count() == 2
    assert tender.created_by.username == "agency"
    # documents from now (Monday 2 March, 09:00) and the deadline 25 days later: Friday 27 March
    assert tender.doc_issue_start == clock.now()
    assert tender.bid_deadline == dt.datetime(2026, 3, 27, 9, 30, tzinfo=CN)
    document = tender.documents.get()
    with document.file.open("rb") as f:
        content = f.read()
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
    assert hashlib.sha256(content).hexdigest() == document.sha256
    assert {o.obtained_by.username for o in DocumentObtainer.objects.all()} == {
        "bidder1",
        "bidder2",
    }
    question = Question.objects.get()
    clarification = Clarification.objects.get()
    assert question.answered_by == clarification
    assert not clarification.affects_preparation
    assert clarification.bid_deadline == clarification.previous_deadline == tender.bid_deadline
    assert [n.kind for n in Notice.objects.order_by("id")] == [
        Notice.Kind.TENDER,
        Notice.Kind.CLARIFICATION,
    ]

    assert "registered project 2026-330100-48-01-000001" in output
    assert "clarification no. 1" in output
    assert "login bidder1" in output and "openbid-demo-2026" in output
    assert "skipped" not in output

    assert Entry.objects.count() == DomainEvent.objects.count()
    verified = io.StringIO()
    call_command("ledger", "verify", stdout=verified)
    assert verified.getvalue().rstrip().endswith("verified")


def test_demo_skips_the_tender_when_the_calendar_ends(clock):
    # In late December the deadline falls in a year whose holidays are not known yet.
    clock.set("2026-12-21T09:00:00")
    with pytest.raises(workdays.CalendarNotCovered):
        demo_schedule(clock.now())
    lines = list(run_demo())
    skipped = [line for line in lines if line.startswith("Tender demo skipped:")]
    assert len(skipped) == 1 and "2027" in skipped[0]
    assert Organisation.objects.filter(credit_code__isnull=False).count() == 8
    assert not Project.objects.exists() and not Tender.objects.exists()
    assert lines[-1].startswith("Logins:")
    call_command("ledger", "verify", stdout=io.StringIO())


@pytest.mark.parametrize(
    "when",
    [
        "2026-01-30T16:00:00",  # a deadline near the Spring Festival break
        "2026-09-12T23:58:00",  # late on a Saturday, deadline in the National Day week
        "2026-04-30T12:00:00",
    ],
)
def test_demo_schedule_is_lawful_on_any_covered_day(clock, when):
    now = clock.set(when)
    schedule = demo_schedule(now)
    start = schedule["doc_issue_start"]
    assert now - dt.timedelta(minutes=1) < start <= now
    deadline = schedule["bid_deadline"].astimezone(CN)
    assert (deadline.date() - start.astimezone(CN).date()).days >= 20
    assert workdays.is_working_day(deadline.date())
    assert (schedule["doc_issue_end"].date() - start.date()).days >= 5
    assert start < schedule["question_deadline"] < deadline


def test_demo_pdf_is_well_formed():
    data = demo_pdf(["openbid (demo)", "back\\slash"])
    assert data.startswith(b"%PDF-1.4\n")
    # the cross-reference table points at each object
    xref = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert data[xref:].startswith(b"xref\n0 6\n")
    offsets = [int(line[:10]) for line in data[xref:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(b"%d 0 obj" % number)
    assert b"(openbid \\(demo\\)) '" in data and b"(back\\\\slash) '" in data
