"""The evaluation session through its services: start, sign-in with certificates, clearing, the
blind technical review and its reveal, scoring with outlier reasons, K drawn verifiably, the
results with numbers worked by hand, the report signed by every member, the hook and the fees.
Every refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.models import DomainEvent
from openbid.crypto import document_signatures
from openbid.crypto.models import DocumentSignature
from openbid.draws.models import Draw
from openbid.evaluation import blind, signals
from openbid.evaluation import session as evaluation
from openbid.evaluation.models import (
    Attendance,
    ClarificationRequest,
    EvaluationSession,
    ExpertFee,
    Message,
    PriceAdjustment,
    Report,
    Score,
    ScoreSheet,
)
from openbid.ledger.models import Entry
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Tender
from tests.evaluation.session_helpers import PRICES, VENUES, Ready, ready, started

pytestmark = pytest.mark.django_db

X, Y, Z = PRICES
#: T1 (0–30, outlier limit 20% × 30 = 6) by E1…E5; E5's 12 for Y is 8 from the others' mean 20.
T1 = {X: [25, 24, 26, 25, 25], Y: [20, 21, 19, 20, 12], Z: [22, 22, 23, 21, 22]}
#: C1 (0–20, limit 4).
C1 = {X: [15, 15, 16, 14, 15], Y: [18, 17, 18, 18, 19], Z: [12, 13, 12, 12, 13]}
REASON = "施工方案缺少深基坑支护等关键工序"


def counts() -> dict[str, int]:
    models = (
        EvaluationSession,
        Attendance,
        Message,
        ClarificationRequest,
        ScoreSheet,
        Score,
        PriceAdjustment,
        Report,
        ExpertFee,
        DocumentSignature,
        Draw,
        DomainEvent,
        Entry,
    )
    return {m.__name__: m.objects.count() for m in models}


def refused(exc: type[Exception], call: Any, *args: Any, **kw: Any) -> Exception:
    before = counts()
    with pytest.raises(exc) as err:
        call(*args, **kw)
    assert counts() == before
    return err.value


def technical(r: Ready, s: EvaluationSession, n: int, *, reason: bool = True) -> list[dict]:
    return [
        {
            "bid": evaluation.code_of(s, r.bid_of(price).pk),
            "criterion": "T1",
            "points": str(points[n]),
            "reason": REASON if reason and points[n] == 12 else "",
        }
        for price, points in T1.items()
    ]


def commercial(r: Ready, n: int) -> list[dict]:
    return [
        {"bid": r.bid_of(price).pk, "criterion": "C1", "points": str(points[n])}
        for price, points in C1.items()
    ]


def score_part(r: Ready, part: str, rows: Any) -> None:
    s = r.session()
    for n, m in enumerate(r.members):
        evaluation.save_scores(r.user(m), s, part, rows(n))
        evaluation.submit_sheet(r.user(m), s, part)
    for m in r.members:
        r.sign(m, evaluation.SCORES_KIND, evaluation.sheet_for(r.user(m), s, part).pk)


def scored(clock: Any) -> Ready:
    r = started(clock)
    r.sign_in_all()
    s = r.session()
    score_part(r, "technical", lambda n: technical(r, s, n))
    score_part(r, "commercial", lambda n: commercial(r, n))
    return r


# --- starting -------------------------------------------------------------------------------------


def test_the_session_starts_once_the_committee_is_formed(clock: Any) -> None:
    r = ready(clock)
    s = evaluation.start_session(r.manager, r.tender, venues=VENUES)
    r.tender.refresh_from_db()
    assert r.tender.status == State.EVALUATING
    assert s.status == EvaluationSession.Status.TECHNICAL
    assert [v.kind for v in s.venues.order_by("pk")] == ["main", "secondary"]
    assert s.rules["coefficient"]["low"] == "0.97"
    # Every member has a technical and a commercial sheet.
    assert s.sheets.count() == 10
    # The blind plan's commitment is in the ledger; the secret and the codes are not.
    event = DomainEvent.objects.get(type="evaluation.session.started")
    assert event.payload["blind_commitment"] == s.blind_commitment
    assert bytes(s.blind_secret).hex() not in str(event.payload)
    assert not any(code in str(event.payload) for code in s.blind_codes.values())
    # K drawn verifiably from the announced range.
    draw = Draw.objects.get(purpose=evaluation.COEFFICIENT_PURPOSE)
    assert s.coefficient == "0.97" and s.coefficient_index == 0
    out = StringIO()
    call_command("draw", "verify", str(draw.pk), stdout=out)
    assert out.getvalue().strip().endswith("verified")
    # Clearing ran; similarity compared the packages' files, fingerprints and .txt text.
    assert len(s.clearing["bids"]) == 3 and not any(b["invalid"] for b in s.clearing["bids"])
    assert s.similarity["no_text"] == [] and s.similarity["similar"] == []


def test_starting_is_refused_without_a_formed_committee_or_twice(clock: Any) -> None:
    r = ready(clock)
    refused(
        InvalidInput,
        evaluation.open_session,
        r.manager,
        r.tender,
        venues=[{"kind": "secondary", "name": "副场", "region_code": "440100"}],
    )
    refused(NotAllowed, evaluation.open_session, r.sealed[0].user, r.tender, venues=VENUES)
    member = r.members[0]
    refused(NotAllowed, evaluation.open_session, r.user(member), r.tender, venues=VENUES)
    evaluation.open_session(r.manager, r.tender, venues=VENUES)
    refused(Conflict, evaluation.open_session, r.manager, r.tender, venues=VENUES)


def test_a_hold_stops_the_evaluation_from_starting(clock: Any, monkeypatch: Any) -> None:
    """A pending objection or a regulator's suspension order (a hold) refuses the start."""
    import datetime as dt

    from openbid.core import holds

    r = ready(clock)
    hold = holds.Hold(
        tender_id=r.tender.pk,
        case="投诉 TS-2026-0001",
        reason="行政监督部门责令暂停",
        rule="complaint_suspension",
        article="Reg art. 62",
        steps=holds.steps_from("start_evaluation"),
        since=clock.now() - dt.timedelta(hours=1),
    )
    monkeypatch.setattr(holds, "_sources", [lambda tender_id: [hold]])
    error = refused(Conflict, evaluation.open_session, r.manager, r.tender, venues=VENUES)
    assert "TS-2026-0001" in str(error)
    monkeypatch.setattr(holds, "_sources", [])
    evaluation.open_session(r.manager, r.tender, venues=VENUES)


def test_an_abnormally_low_price_asks_the_bidder(clock: Any) -> None:
    r = started(clock, prices=(X, "7000000.00", Z))
    s = r.session()
    low = r.bid_of("7000000.00")
    request = ClarificationRequest.objects.get(session=s)
    assert request.bid == low and request.finding == "abnormally_low"
    bidder = next(x for x in r.sealed if x.bid == low.bid)
    other = next(x for x in r.sealed if x.bid != low.bid)
    refused(NotAllowed, evaluation.answer_clarification, other.user, request, answer="?")
    refused(InvalidInput, evaluation.answer_clarification, bidder.user, request, answer=" ")
    evaluation.answer_clarification(bidder.user, request, answer="主材自有，价格有发票佐证")
    refused(Conflict, evaluation.answer_clarification, bidder.user, request, answer="again")
    assert list(evaluation.clarifications_for(bidder.user)) == [request]


# --- sign-in and the discussion record --------------------------------------------------------------


def test_members_sign_in_at_their_venue_with_their_certificate(clock: Any) -> None:
    r = started(clock)
    s = r.session()
    m = r.members[0]
    venue = s.venues.get(kind="secondary")
    # Not signed in: nothing but signing in.
    refused(Conflict, evaluation.post_message, r.user(m), s, text="开始")
    attendance = evaluation.check_in(r.user(m), s, venue=venue)
    assert attendance.signed_in_at is None and attendance.document["venue"]["region_code"]
    # Someone else cannot sign this member's sign-in.
    other = r.members[1]
    refused(NotFound, r.sign, other, evaluation.SIGN_IN_KIND, attendance.pk)
    r.sign(m, evaluation.SIGN_IN_KIND, attendance.pk)
    attendance.refresh_from_db()
    assert attendance.signed_in_at is not None
    event = DomainEvent.objects.get(type="evaluation.session.signed_in")
    assert event.payload["venue_kind"] == "secondary" and event.payload["region_code"] == "440100"
    refused(Conflict, evaluation.check_in, r.user(m), s, venue=venue)
    message = evaluation.post_message(r.user(m), s, text="请各位专家先阅读评标办法")
    assert message.member == m
    refused(NotAllowed, evaluation.post_message, r.manager, s, text="hello")
    refused(InvalidInput, evaluation.post_message, r.user(m), s, text="  ")


# --- the blind review -------------------------------------------------------------------------------


def test_each_member_reads_the_technical_bids_in_their_own_order_under_codes(clock: Any) -> None:
    r = started(clock)
    s = r.session()
    lists = {m.pk: evaluation.blind_list(r.user(m), s) for m in r.members}
    orders = {tuple(row["code"] for row in rows) for rows in lists.values()}
    assert len(orders) == 5  # three bids, five members: every order differs
    firsts = [rows[0]["code"] for rows in lists.values()]
    assert len(set(firsts)) == 3
    names = [x.org.name for x in r.sealed]
    for rows in lists.values():
        text = str(rows)
        assert not any(name in text for name in names)
        assert "技术标" not in text  # file names are replaced by codes
    code = lists[r.members[0].pk][0]["code"]
    name, data = evaluation.technical_file(r.user(r.members[0]), s, code, 1)
    assert name == f"{code}-1.pdf" and data.startswith(b"%PDF")
    refused(NotAllowed, evaluation.blind_list, r.manager, s)
    refused(NotAllowed, evaluation.technical_file, r.sealed[0].user, s, code, 1)


def test_the_mapping_is_revealed_only_after_every_technical_sheet_is_signed(clock: Any) -> None:
    r = started(clock)
    r.sign_in_all()
    s = r.session()
    for n, m in enumerate(r.members):
        evaluation.save_scores(r.user(m), s, "technical", technical(r, s, n))
        evaluation.submit_sheet(r.user(m), s, "technical")
    for m in r.members[:4]:
        r.sign(m, evaluation.SCORES_KIND, evaluation.sheet_for(r.user(m), s, "technical").pk)
        s.refresh_from_db()
        assert s.blind_plan is None and s.revealed_at is None
        assert s.status == EvaluationSession.Status.TECHNICAL
    assert not DomainEvent.objects.filter(type="evaluation.blind.revealed").exists()
    last = r.members[4]
    r.sign(last, evaluation.SCORES_KIND, evaluation.sheet_for(r.user(last), s, "technical").pk)
    s.refresh_from_db()
    assert s.revealed_at is not None and s.status == EvaluationSession.Status.COMMERCIAL
    event = DomainEvent.objects.get(type="evaluation.blind.revealed")
    plan = blind.verify(event.payload["plan"], event.payload["commitment"])
    assert plan.codes == {int(k): v for k, v in s.blind_codes.items()}
    assert evaluation.verify_blind(s).secret == bytes(s.blind_secret)
    tampered = {**event.payload["plan"], "secret": "00" * 32}
    with pytest.raises(ValueError):
        blind.verify(tampered, s.blind_commitment)


def test_scores_are_refused_out_of_range_out_of_turn_and_after_signing(clock: Any) -> None:
    r = started(clock)
    s = r.session()
    m = r.members[0]
    rows = technical(r, s, 0)
    refused(Conflict, evaluation.save_scores, r.user(m), s, "technical", rows)  # not signed in
    r.sign_in_all()
    bad = [{**rows[0], "points": "30.01"}]
    err = refused(InvalidInput, evaluation.save_scores, r.user(m), s, "technical", bad)
    assert err.rule == "score_range"
    by_id = [{**rows[0], "bid": r.bid_of(X).pk}]  # the technical part names bids by code only
    refused(InvalidInput, evaluation.save_scores, r.user(m), s, "technical", by_id)
    refused(
        InvalidInput,
        evaluation.save_scores,
        r.user(m),
        s,
        "technical",
        [{**rows[0], "criterion": "C1"}],
    )
    refused(Conflict, evaluation.save_scores, r.user(m), s, "commercial", commercial(r, 0))
    refused(NotAllowed, evaluation.save_scores, r.manager, s, "technical", rows)
    refused(InvalidInput, evaluation.submit_sheet, r.user(m), s, "technical")  # nothing scored
    evaluation.save_scores(r.user(m), s, "technical", rows[:2])
    refused(InvalidInput, evaluation.submit_sheet, r.user(m), s, "technical")  # one missing
    evaluation.save_scores(r.user(m), s, "technical", rows)
    evaluation.submit_sheet(r.user(m), s, "technical")
    changed = [{**rows[0], "points": "1"}]
    refused(Conflict, evaluation.save_scores, r.user(m), s, "technical", changed)
    # Signing waits for everyone's points.
    sheet = evaluation.sheet_for(r.user(m), s, "technical")
    refused(Conflict, r.sign, m, evaluation.SCORES_KIND, sheet.pk)


def test_an_outlying_score_needs_a_written_reason_before_signing(clock: Any) -> None:
    r = started(clock)
    r.sign_in_all()
    s = r.session()
    for n, m in enumerate(r.members):
        evaluation.save_scores(r.user(m), s, "technical", technical(r, s, n, reason=False))
        evaluation.submit_sheet(r.user(m), s, "technical")
    e5 = r.members[4]
    sheet = evaluation.sheet_for(r.user(e5), s, "technical")
    err = refused(InvalidInput, r.sign, e5, evaluation.SCORES_KIND, sheet.pk)
    assert err.rule == "score_outlier_reason"
    assert "12.00" in str(err) and "20.00" in str(err)  # the points and the others' mean
    code = evaluation.code_of(s, r.bid_of(Y).pk)
    assert code in str(err)  # the bid by its code, not its bidder
    # The points are submitted: only the reason can be added now.
    evaluation.save_scores(
        r.user(e5),
        s,
        "technical",
        [{"bid": code, "criterion": "T1", "points": "12", "reason": REASON}],
    )
    r.sign(e5, evaluation.SCORES_KIND, sheet.pk)
    sheet.refresh_from_db()
    assert sheet.signed_at is not None
    document = evaluation.sheet_document(s, sheet)
    assert {row["bid"] for row in document["scores"]} == set(s.blind_codes.values())
    refused(Conflict, evaluation.save_scores, r.user(e5), s, "technical", technical(r, s, 4))


def test_comprehensive_results_worked_by_hand(clock: Any) -> None:
    r = scored(clock)
    s = r.session()
    assert s.status == EvaluationSession.Status.SUMMARY
    refused(NotAllowed, evaluation.compute_results, r.user(r.members[1]), s)
    evaluation.compute_results(r.user(r.chair), s)
    s.refresh_from_db()
    rows = {row["price"]: row for row in s.result["bids"]}
    # base = (9,600,000 + 9,000,000 + 9,900,000) × 0.97 / 3 = 27,645,000 / 3 = 9,215,000.00
    assert "base = mean × K = 9500000.00 × 0.97 = 9215000.0000 → 9215000.00" in s.result["working"]
    # X: 385,000 / 9,215,000 = 4.1779…% → 4.18%: 40 − 4.18 = 35.82
    # Y: −215,000 / 9,215,000 = −2.3331…% → −2.33%: 40 − 2.33 × 0.5 = 38.835 → 38.84
    # Z: 685,000 / 9,215,000 = 7.4335…% → 7.43%: 40 − 7.43 = 32.57
    # T1: X 125/5 = 25.00, Y 92/5 = 18.40, Z 110/5 = 22.00 (5 experts: nothing dropped)
    # C1: X 75/5 = 15.00, Y 90/5 = 18.00, Z 62/5 = 12.40
    # Credit: no credit records, grade AA: 80% of 10 = 8.00
    assert rows[X]["parts"] == {"T1": "25.00", "C1": "15.00", "P": "35.82", "CR": "8.00"}
    assert rows[Y]["parts"] == {"T1": "18.40", "C1": "18.00", "P": "38.84", "CR": "8.00"}
    assert rows[Z]["parts"] == {"T1": "22.00", "C1": "12.40", "P": "32.57", "CR": "8.00"}
    assert (rows[X]["total"], rows[Y]["total"], rows[Z]["total"]) == ("83.82", "83.24", "74.97")
    ranking = s.result["ranking"]["entries"]
    assert [e["bid"] for e in ranking] == [r.bid_of(p).pk for p in (X, Y, Z)]
    assert s.result["outliers"] == [
        {
            "expert": "E5",
            "bid": r.bid_of(Y).pk,
            "bidder": rows[Y]["bidder"],
            "criterion": "T1",
            "points": "12.00",
            "others_mean": "20.00",
            "reason": REASON,
        }
    ]
    # Every score is a row naming its member and factor.
    assert Score.objects.filter(sheet__session=s).count() == 5 * 3 * 2
    assert evaluation.candidates(s)[0]["bid"] == r.bid_of(X).pk


def test_the_report_signed_by_every_member_completes_the_evaluation(clock: Any) -> None:
    r = scored(clock)
    s = r.session()
    chair = r.user(r.chair)
    refused(Conflict, evaluation.generate_report, chair, s)  # results first
    evaluation.compute_results(chair, s)
    refused(NotAllowed, evaluation.generate_report, r.user(r.members[1]), s)
    fired: list[tuple[Any, Any]] = []

    def receiver(sender: Any, tender: Tender, report: Report, **kw: Any) -> None:
        fired.append((tender.pk, report.pk))
        Tender.objects.filter(pk=tender.pk).update(status=State.PUBLICITY)  # the award's job

    signals.report_signed.connect(receiver)
    try:
        clock.advance(hours=5)
        report = evaluation.generate_report(chair, s)
        assert report.pdf[:5] == b"%PDF-" and len(report.sha256) == 64
        assert len(report.candidates) == 3
        for m in r.members[:4]:
            r.sign(m, evaluation.REPORT_KIND, report.pk)
        assert fired == [] and not ExpertFee.objects.exists()
        refused(
            NotFound, document_signatures.signable, r.manager, evaluation.REPORT_KIND, report.pk
        )
        r.sign(r.members[4], evaluation.REPORT_KIND, report.pk)
    finally:
        signals.report_signed.disconnect(receiver)
    assert fired == [(r.tender.pk, report.pk)]
    s.refresh_from_db()
    report.refresh_from_db()
    assert s.status == EvaluationSession.Status.COMPLETED and report.completed_at is not None
    # The committee's names are published once the tender is in publicity.
    r.tender.committee.refresh_from_db()
    assert r.tender.committee.published_at is not None
    # 5 h 30 min → two half-days = one day: 800.00 each.
    fees = list(ExpertFee.objects.filter(session=s))
    assert len(fees) == 5 and {f.amount for f in fees} == {Decimal("800.00")}
    refused(Conflict, r.sign, r.members[0], evaluation.REPORT_KIND, report.pk)
    refused(NotAllowed, evaluation.pay_fee, r.user(r.members[0]), fees[0], reference="x")
    evaluation.pay_fee(r.centre, fees[0], reference="PAY-2026-0001")
    refused(Conflict, evaluation.pay_fee, r.centre, fees[0], reference="PAY-2026-0001")


def test_fees_by_duration() -> None:
    assert evaluation.fee_for(dt.timedelta(hours=3))[0] == Decimal("500.00")
    assert evaluation.fee_for(dt.timedelta(hours=4))[0] == Decimal("500.00")
    assert evaluation.fee_for(dt.timedelta(hours=4, minutes=1))[0] == Decimal("800.00")
    assert evaluation.fee_for(dt.timedelta(hours=9))[0] == Decimal("1300.00")  # 3 half-days
    assert evaluation.fee_for(dt.timedelta(hours=16))[0] == Decimal("1600.00")


def test_lowest_evaluated_price_with_pass_fail_and_adjustments(clock: Any) -> None:
    r = started(
        clock,
        method=Tender.Evaluation.LOWEST_PRICE,
        prices=("5000000.00", "5080000.00", "5150000.00"),
    )
    r.sign_in_all()
    s = r.session()
    assert s.coefficient_draw is None and evaluation.parts(s) == ["technical"]
    a, b, c = (r.bid_of(p) for p in ("5000000.00", "5080000.00", "5150000.00"))

    def verdicts(n: int) -> list[dict]:
        return [
            {
                "bid": evaluation.code_of(s, bid.pk),
                "criterion": "TC",
                "points": "0" if bid == c and n < 3 else "1",
                "reason": "" if bid != c or n >= 3 else "未响应工期要求",
            }
            for bid in (a, b, c)
        ]

    half = [{**verdicts(0)[0], "points": "0.5"}]
    err = refused(InvalidInput, evaluation.save_scores, r.user(r.members[0]), s, "technical", half)
    assert err.rule == "pass_fail"
    score_part(
        r, "technical", lambda n: [{**v, "reason": v["reason"] or "符合"} for v in verdicts(n)]
    )
    s.refresh_from_db()
    assert s.status == EvaluationSession.Status.SUMMARY
    chair = r.user(r.chair)
    refused(
        NotAllowed,
        evaluation.record_adjustment,
        r.user(r.members[1]),
        s,
        bid=a,
        amount="1",
        reason="x",
    )
    refused(
        InvalidInput, evaluation.record_adjustment, chair, s, bid=a, amount="120000", reason=" "
    )
    evaluation.record_adjustment(
        chair, s, bid=a, amount="120000", reason="工期超出30天 × 4000元", clause="评标办法2.2"
    )
    evaluation.record_adjustment(chair, s, bid=b, amount="40000.00", reason="付款条件偏差")
    evaluation.compute_results(chair, s)
    s.refresh_from_db()
    rows = {row["bid"]: row for row in s.result["bids"]}
    # C failed by 3 of 5; A 5,000,000 + 120,000 = 5,120,000; B 5,080,000 + 40,000 = 5,120,000:
    # equal, and B's lower bid price? No: A's bid price is lower, so A first.
    assert rows[c.pk]["valid"] is False and rows[c.pk]["note"] == "technical review failed"
    assert rows[a.pk]["total"] == rows[b.pk]["total"] == "5120000.00"
    assert [e["bid"] for e in s.result["ranking"]["entries"]] == [a.pk, b.pk]
    assert s.result["ranking"]["entries"][1]["decided_by"] == "lower_price"


def test_a_tie_is_settled_by_a_verifiable_draw(clock: Any) -> None:
    r = started(
        clock,
        method=Tender.Evaluation.LOWEST_PRICE,
        rules={"tie_breaks": []},
        prices=("5000000.00", "5000000.00", "5150000.00"),
    )
    r.sign_in_all()
    s = r.session()
    rows = lambda n: [  # noqa: E731
        {"bid": code, "criterion": "TC", "points": "1"} for code in s.blind_codes.values()
    ]
    score_part(r, "technical", rows)
    chair = r.user(r.chair)
    evaluation.compute_results(chair, s)
    s.refresh_from_db()
    assert len(s.result["ranking"]["ties"]) == 1
    refused(Conflict, evaluation.generate_report, chair, s)  # the tie waits for its draw
    evaluation.perform_draws(s)
    s.refresh_from_db()
    assert s.result["ranking"]["ties"] == []
    draw = Draw.objects.get(purpose=evaluation.TIE_PURPOSE)
    drawn = [int(ref.removeprefix("bid:")) for ref in draw.result["groups"][0]["members"]]
    assert [e["bid"] for e in s.result["ranking"]["entries"][:2]] == drawn
    assert s.result["ranking"]["entries"][1]["decided_by"] == "lottery"
    out = StringIO()
    call_command("draw", "verify", str(draw.pk), stdout=out)
    assert out.getvalue().strip().endswith("verified")
    evaluation.generate_report(chair, s)
