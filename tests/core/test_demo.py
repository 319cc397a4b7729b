"""The demo scenario: from an empty database to a tender opened in the past (five sealed bids
submitted, opened and read out, the record signed) and a published tender with a clarification,
all through the services, with a ledger that verifies and events in time order; and on days the
holiday calendar does not cover, the organisations without the tenders."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from openbid.accounts.models import Organisation
from openbid.award.models import Contract, Decision, Publicity, WrittenReport
from openbid.bidding.models import Bid
from openbid.core import clock as platform_clock
from openbid.core import holds, workdays
from openbid.core.models import DomainEvent
from openbid.crypto.document_signatures import verifies
from openbid.crypto.models import DocumentSignature
from openbid.demo import COMPLETED_BIDS, completed_schedule, demo_pdf, demo_schedule, run_demo
from openbid.deposits.models import SubAccount
from openbid.disputes.models import Complaint, Objection
from openbid.evaluation import session as evaluation_session
from openbid.evaluation.models import EvaluationSession, Report
from openbid.ledger import keys
from openbid.ledger.models import Entry
from openbid.ledger.note import verify_note
from openbid.opening.models import OpenedBid, OpeningSession
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


LIVE_CODE = "2026-330100-48-01-000001"
COMPLETED_CODE = "2025-330100-48-01-000002"


def people_code(body: str, prefix: str = "91") -> str:
    from openbid.accounts.credit_code import generate_credit_code

    return generate_credit_code(prefix[0], prefix[1], "330100", body)


def assert_events_in_time_order() -> None:
    times = list(DomainEvent.objects.order_by("id").values_list("occurred_at", flat=True))
    assert times
    assert all(a <= b for a, b in itertools.pairwise(times))


def test_demo_runs_a_tender_and_the_ledger_verifies(clock):
    assert not Organisation.objects.exists()
    out = io.StringIO()
    call_command("demo", stdout=out)
    output = out.getvalue()
    assert clock.now() == dt.datetime(2026, 3, 2, 9, 0, tzinfo=CN)  # the clock is as it was

    project = Project.objects.get(code=LIVE_CODE)
    assert project.code == "2026-330100-48-01-000001"
    assert project.tenderer.name == "示范城市建设投资集团有限公司"
    assert project.agency is not None and project.agency.name == "诚信工程咨询有限公司"
    assert TenderPlan.objects.get().project == project
    tender = Tender.objects.get(project=project)
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
    assert {o.obtained_by.username for o in DocumentObtainer.objects.filter(tender=tender)} == {
        "bidder1",
        "bidder2",
    }
    question = Question.objects.get()
    clarification = Clarification.objects.get()
    assert question.answered_by == clarification
    assert not clarification.affects_preparation
    assert clarification.bid_deadline == clarification.previous_deadline == tender.bid_deadline
    assert [n.kind for n in Notice.objects.filter(tender=tender).order_by("id")] == [
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
    assert_events_in_time_order()


def test_demo_opens_five_sealed_bids_in_the_past(clock):
    lines = list(run_demo())
    present = clock.now()
    assert present == dt.datetime(2026, 3, 2, 9, 0, tzinfo=CN)

    # Played from Monday 22 December 2025 (70 days back, 09:00): room for the opening, the
    # evaluation, the publicity and the contract. The deadline, 25 days after the documents, is
    # Friday 16 January 2026.
    start = dt.datetime(2025, 12, 22, 9, 0, tzinfo=CN)
    assert Organisation.objects.order_by("id").first().registered_at == start
    tender = Tender.objects.get(project__code=COMPLETED_CODE)
    # Evaluated, the candidates published by the report's hook, awarded and contracted.
    assert tender.status == State.CONTRACTED
    assert tender.doc_issue_start == start + dt.timedelta(hours=1)
    assert tender.bid_deadline == dt.datetime(2026, 1, 16, 9, 30, tzinfo=CN)
    assert tender.published_at is not None and tender.published_at < tender.doc_issue_start
    assert {o.obtained_by.username for o in DocumentObtainer.objects.filter(tender=tender)} == {
        login for login, *_rest in COMPLETED_BIDS
    }

    bids = Bid.objects.filter(section__tender=tender).order_by("committed_at")
    assert bids.count() == 5
    assert {b.suite for b in bids} == {"intl-2026"}
    assert all(b.committed_at < tender.bid_deadline for b in bids)
    assert all(b.size > 2048 for b in bids)  # files of a few KB, sealed

    session = OpeningSession.objects.get(tender=tender)
    assert session.started_at > tender.bid_deadline
    opened = list(session.bids.order_by("order"))
    assert [o.status for o in opened] == [OpenedBid.Status.OPENED] * 5
    assert [f"{o.price:.2f}" for o in opened] == [price for _l, price, *_r in COMPLETED_BIDS]
    assert [o.duration_days for o in opened] == [days for _l, _p, days, _m in COMPLETED_BIDS]
    *released, escrowed = opened
    assert all(
        o.released_at is not None and o.released_at < session.decryption_deadline for o in released
    )
    # The last bidder lost its key: the custodians opened its bid through the key escrow.
    assert escrowed.released_at is None and escrowed.via_escrow
    assert all(b.escrow_key_id == tender.escrow.key_id for b in bids)
    assert session.escrow_deadline is not None
    assert set(tender.escrow.submissions.values_list("mnemonic", flat=True)) == {""}
    assert session.status == OpeningSession.Status.CLOSED

    objection = session.objections.get()
    assert objection.raised_by.name == "第三建设工程有限公司"
    assert (
        objection.replied_by_org is not None
        and objection.replied_by_org.name == "诚信工程咨询有限公司"
    )

    # The signed record: published in the past, verifying with the platform's log key.
    assert session.published_at is not None and session.published_at < present
    assert session.signed_by is not None and session.signed_by.username == "agency"
    verified = verify_note(session.record_note, [keys.log_signer().verifier()])
    assert verified.text == session.record_text
    assert session.record_sha256 == hashlib.sha256(session.record_note.encode()).hexdigest()
    for _login, price, _days, _manager in COMPLETED_BIDS:
        assert f" price {price} " in session.record_text
    assert "objection 1 by" in session.record_text and "reply 1 by" in session.record_text

    output = "\n".join(lines)
    assert lines[0].startswith("The platform clock is set back to 2025-12-22 09:00")
    for price in ("17,368,000.00", "17,845,500.00", "16,990,000.00", "18,120,000.00"):
        assert f"{price} yuan" in output
    assert "17,512,300.50 yuan" in output
    assert f"SHA-256 {session.record_sha256}" in output
    assert "The platform clock is back at the present: 2026-03-02 09:00" in output
    assert "skipped" not in output

    # The evaluation: a 5-expert committee, the blind review revealed and verified, K drawn
    # verifiably, the report signed by all five experts with their certificates.
    evaluation = EvaluationSession.objects.get(tender=tender)
    assert evaluation.status == EvaluationSession.Status.COMPLETED
    assert evaluation.completed_at is not None and evaluation.completed_at < present
    assert evaluation.venues.count() == 2 and evaluation.attendance.count() == 5
    assert all(a.signed_in_at is not None for a in evaluation.attendance.all())
    assert evaluation_session.verify_blind(evaluation).secret == bytes(evaluation.blind_secret)
    assert Decimal(evaluation.coefficient) in evaluation_session.coefficient_choices(
        evaluation.rules
    )
    verify_out = io.StringIO()
    call_command("draw", "verify", str(evaluation.coefficient_draw_id), stdout=verify_out)
    assert verify_out.getvalue().strip().endswith("verified")
    assert evaluation.sheets.filter(signed_at__isnull=False).count() == 10
    report = evaluation.report
    assert report.pdf[:5] == b"%PDF-" and report.completed_at is not None
    assert hashlib.sha256(bytes(report.pdf)).hexdigest() == report.sha256
    signatures = DocumentSignature.objects.filter(kind="evaluation-report", document_id=report.pk)
    assert signatures.count() == 5 and all(verifies(sig) for sig in signatures)
    assert len(report.candidates) == 3
    ranking = evaluation.result["ranking"]["entries"]
    assert [e["bidder"] for e in ranking[:3]] == [c["bidder"] for c in report.candidates]
    assert evaluation.fees.count() == 5
    assert f"SHA-256 {report.sha256}" in output

    # The live tender, published at the present, after everything above.
    live = Tender.objects.get(project__code=LIVE_CODE)
    assert live.status == State.PUBLISHED and live.published_at == present

    # An objection to the tender documents on Tuesday 23 December 14:00 (bidder2), due in 3 days:
    # Friday 26 December, 24:00; answered the next morning, the hold released.
    objection = Objection.objects.get(tender=tender)
    assert objection.raised_by.credit_code == people_code("MA2DEM004")
    assert objection.raised_at == dt.datetime(2025, 12, 23, 14, 0, tzinfo=CN)
    assert objection.reply_due == dt.datetime(2025, 12, 27, 0, 0, tzinfo=CN)
    assert objection.replied_at == dt.datetime(2025, 12, 24, 10, 0, tzinfo=CN)
    assert not holds.active_holds(tender)
    # bidder3's complaint about the opening (Friday 16 January), filed on Saturday 17, accepted on
    # Monday 19 and dismissed on Tuesday 20 January, published without its name.
    complaint = Complaint.objects.get(tender=tender)
    assert complaint.matter == "opening" and complaint.opening_objection is not None
    assert complaint.filed_at == dt.datetime(2026, 1, 17, 10, 0, tzinfo=CN)
    # Acceptance within 3 working days: Monday 19, 20 and 21 January.
    assert complaint.accept_due == dt.datetime(2026, 1, 22, 0, 0, tzinfo=CN)
    assert complaint.accepted_at == dt.datetime(2026, 1, 19, 9, 30, tzinfo=CN)
    assert complaint.published_at == dt.datetime(2026, 1, 20, 10, 0, tzinfo=CN)
    assert complaint.outcome == "dismissed" and complaint.steps.count() == 2
    assert complaint.regulator.credit_code == people_code("MB0DEM007", "11")
    assert_events_in_time_order()
    assert DomainEvent.objects.order_by("-id").first().occurred_at == present
    call_command("ledger", "verify", stdout=io.StringIO())


def test_demo_leaves_a_running_clock_running():
    platform_clock.unfreeze()
    list(run_demo())
    first, second = platform_clock.now(), platform_clock.now()
    assert first is not second  # not frozen: each reading is a new time
    assert_events_in_time_order()
    assert DomainEvent.objects.order_by("-id").first().occurred_at <= platform_clock.now()


def test_demo_does_not_write_into_the_past_of_an_existing_record(clock):
    # Once the event record reaches past the start, the demo does not write before it.
    assert completed_schedule(clock.now())[0] is not None
    list(run_demo())
    clock.advance(days=1)
    schedule, why_not = completed_schedule(clock.now())
    assert schedule is None
    assert why_not.startswith("the event record already has events after 2025-12-23 09:00")


def test_demo_skips_the_tender_when_the_calendar_ends(clock):
    # In late December the live deadline falls in a year whose holidays are not known yet; the
    # completed tender, 70 days back, is played whole in 2026 (complaint, evaluation, award and
    # contract included); only the live tender is skipped.
    clock.set("2026-12-21T09:00:00")
    with pytest.raises(workdays.CalendarNotCovered):
        demo_schedule(clock.now())
    lines = list(run_demo())
    skipped = [line for line in lines if "skipped" in line]
    assert [line.split(":")[0] for line in skipped] == ["Tender demo skipped"]
    assert "2027" in skipped[0]
    assert Complaint.objects.count() == 1 and Publicity.objects.count() == 1
    assert Organisation.objects.filter(credit_code__isnull=False).count() == 10
    assert Tender.objects.get().status == State.CONTRACTED
    assert not Tender.objects.filter(project__code=LIVE_CODE).exists()
    assert lines[-1].startswith("Logins:")
    assert clock.now() == dt.datetime(2026, 12, 21, 9, 0, tzinfo=CN)
    call_command("ledger", "verify", stdout=io.StringIO())
    assert_events_in_time_order()


def test_demo_finishes_the_organisations_when_the_calendar_is_missing(clock):
    # In March 2027 neither 40 days back nor 25 days ahead is in a known holiday schedule.
    clock.set("2027-03-01T09:00:00")
    lines = list(run_demo())
    assert [line.split(":")[0] for line in lines if "skipped" in line] == [
        "Completed opening demo skipped",
        "Tender demo skipped",
    ]
    assert not any(line.startswith("The platform clock") for line in lines)
    assert Organisation.objects.filter(credit_code__isnull=False).count() == 10
    assert not Project.objects.exists() and not Tender.objects.exists()
    assert lines[-1].startswith("Logins:") and "bidder5" in lines[-1]
    assert clock.now() == dt.datetime(2027, 3, 1, 9, 0, tzinfo=CN)
    call_command("ledger", "verify", stdout=io.StringIO())
    assert_events_in_time_order()


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


def test_demo_awards_the_completed_tender_and_publishes_its_signed_contract(clock):
    lines = list(run_demo())
    tender = Tender.objects.get(project__code=COMPLETED_CODE)
    assert tender.status == State.CONTRACTED
    publicity = Publicity.objects.get(tender=tender)
    # Published by the evaluation report's hook: its three recommended candidates, in its order.
    report = Report.objects.get(session__tender=tender)
    assert [c.bidder.name for c in publicity.candidates.order_by("rank")] == [
        c["bidder"] for c in report.candidates
    ]
    assert publicity.report_sha256 == report.sha256
    # Published on the evaluation day (Tuesday 20 January); 21, 22, 23 January; ends at 24:00.
    assert timezone_date(publicity.published_at) == dt.date(2026, 1, 20)
    assert publicity.ends_at == dt.datetime(2026, 1, 24, 0, 0, tzinfo=CN)
    decision = Decision.objects.get(publicity=publicity)
    assert decision.method == Decision.Method.FIRST_RANKED
    assert decision.winner.bidder.name == "第三建设工程有限公司"
    assert decision.decided_at > publicity.ends_at
    award_notice = decision.notices.get(kind="award")
    assert award_notice.issued_at is not None
    assert decision.notices.filter(kind="result", issued_at__isnull=False).count() == 4
    contract = Contract.objects.get(decision=decision)
    version = contract.versions.get()
    assert contract.signed_at is not None and not contract.late
    assert version.published_at == contract.signed_at
    assert version.price.compare(decision.winner.price) == 0 and "16,990,000.00 元" in version.text
    signers = set(
        DocumentSignature.objects.filter(kind="contract", document_id=contract.pk).values_list(
            "organisation__name", flat=True
        )
    )
    assert signers == {"示范城市建设投资集团有限公司", "第三建设工程有限公司"}
    report = WrittenReport.objects.get(tender=tender)
    assert report.filed_at is not None and not report.late
    assert contract.signed_at < clock.now()
    assert any("put the candidates in publicity" in line for line in lines)
    # The deposits fall due for refund: the others' 2 working days after the result, the
    # winner's 5 days after the contract.
    subs = SubAccount.objects.filter(section__tender=tender)
    winner = decision.winner.bidder
    assert all(s.refund_due_on is not None for s in subs)
    others = [s for s in subs if s.organisation_id != winner.pk]
    assert {s.refund_basis for s in others} == {SubAccount.RefundBasis.RESULT}
    assert any("published (合同订立公开)" in line for line in lines)
    assert_events_in_time_order()


def timezone_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CN).date()
