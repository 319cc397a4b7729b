"""The award decision (定标): the first-ranked candidate and the statutory reasons to pass it over
(Reg art. 55), and the separated award's methods (评定分离): vote, verifiable lottery (recomputed
by ``openbid draw verify``), collective deliberation."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from openbid.award import services
from openbid.award.models import Decision, Vote, WrittenReport
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.draws import algorithm
from openbid.tendering.lifecycle import State
from tests.award import helpers as h
from tests.factories import market_entity
from tests.tendering.factories import row_counts

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        **row_counts(),
        "Decision": Decision.objects.count(),
        "Vote": Vote.objects.count(),
        "WrittenReport": WrittenReport.objects.count(),
    }


def ready(clock, **overrides):
    publicity, manager, sealed = h.in_publicity(clock, **overrides)
    h.after_publicity(clock, publicity)
    cands = list(publicity.candidates.select_related("bidder").order_by("position"))
    return publicity, manager, sealed, cands


def test_the_first_ranked_candidate_wins(clock):
    publicity, manager, _sealed, cands = ready(clock)
    decision = services.decide_award(manager, publicity)
    assert decision.method == Decision.Method.FIRST_RANKED
    assert decision.winner == cands[0]
    assert decision.status == Decision.Status.DECIDED
    assert cands[0].bidder.name in decision.text and "排名第一" in decision.text
    publicity.tender.refresh_from_db()
    assert publicity.tender.status == State.AWARDED
    event = DomainEvent.objects.get(type="award.decided")
    assert event.payload["winner"] == cands[0].bidder.credit_code
    assert event.payload["sha256"] == decision.sha256
    report = WrittenReport.objects.get(tender=publicity.tender)
    assert report.filed_at is None and report.decided_at == decision.decided_at


@pytest.mark.parametrize("reason", ["gave_up", "cannot_perform", "ineligible"])
def test_a_statutory_reason_passes_over_the_first_candidate(clock, reason):
    publicity, manager, _sealed, cands = ready(clock)
    decision = services.decide_award(
        manager,
        publicity,
        passed_over=[
            {"candidate": cands[0].pk, "reason": reason, "explanation": "书面声明放弃中标"}
        ],
        reasons="依次确定排名第二的中标候选人",
    )
    assert decision.method == Decision.Method.NEXT_RANKED
    assert decision.winner == cands[1]
    assert decision.passed_over[0]["bidder"] == cands[0].bidder.credit_code
    assert "书面声明放弃中标" in decision.text


def test_two_passed_over_leave_the_third(clock):
    publicity, manager, _sealed, cands = ready(clock)
    decision = services.decide_award(
        manager,
        publicity,
        passed_over=[
            {"candidate": cands[0].pk, "reason": "gave_up", "explanation": "放弃"},
            {
                "candidate": cands[1].bidder.credit_code,
                "reason": "ineligible",
                "explanation": "查实弄虚作假",
            },
        ],
    )
    assert decision.winner == cands[2]


@pytest.mark.parametrize(
    "passed, rule, field",
    [
        ([("1", "too_expensive")], "award_first_candidate", "passed_over.1.reason"),
        ([("2", "gave_up")], "award_first_candidate", "passed_over"),  # the second, not the first
        ([("9999", "gave_up")], "candidate", "passed_over.1.candidate"),
    ],
)
def test_no_other_reason_and_only_in_rank_order(clock, passed, rule, field):
    publicity, manager, _sealed, cands = ready(clock)
    by_position = {str(c.position): c.pk for c in cands}
    items = [
        {"candidate": by_position.get(p, int(p)), "reason": r, "explanation": "理由"}
        for p, r in passed
    ]
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        services.decide_award(manager, publicity, passed_over=items)
    assert (refused.value.rule, refused.value.field) == (rule, field)
    assert counts() == before


def test_all_passed_over_means_tendering_again(clock):
    publicity, manager, _sealed, cands = ready(clock)
    before = counts()
    with pytest.raises(Conflict) as refused:
        services.decide_award(
            manager,
            publicity,
            passed_over=[
                {"candidate": c.pk, "reason": "gave_up", "explanation": "放弃"} for c in cands
            ],
        )
    assert refused.value.rule == "award_first_candidate" and refused.value.article == "Reg art. 55"
    assert counts() == before


def test_only_the_tenderer_decides_and_only_once(clock):
    publicity, manager, sealed, _cands = ready(clock)
    _agency_org, agency_user = market_entity("agency")
    before = counts()
    for outsider in (sealed[0].user, agency_user):
        with pytest.raises(NotAllowed):
            services.decide_award(outsider, publicity)
    with pytest.raises(InvalidInput):  # not separated: nobody chooses
        services.decide_award(manager, publicity, winner=publicity.candidates.last().pk)
    assert counts() == before
    services.decide_award(manager, publicity)
    with pytest.raises(Conflict) as again:
        services.decide_award(manager, publicity)
    assert again.value.rule == "decision_once"


def test_decision_committee_vote(clock):
    publicity, manager, _sealed, cands = ready(clock, separated_award=True, award_method="vote")
    votes = [
        {"member": "王一", "candidate": cands[1].pk, "reason": "技术方案更优"},
        {"member": "李二", "candidate": cands[1].pk},
        {"member": "赵三", "candidate": cands[0].pk, "reason": "价格最低"},
        {"member": "钱四", "candidate": cands[2].pk},
        {"member": "孙五", "candidate": cands[1].pk},
    ]
    decision = services.decide_award(manager, publicity, votes=votes, reasons="定标委员会票决")
    assert decision.method == Decision.Method.VOTE
    assert decision.winner == cands[1]  # 3 of 5 votes
    assert decision.votes.count() == 5
    assert "王一" in decision.text and "技术方案更优" in decision.text
    payload = DomainEvent.objects.get(type="award.decided").payload
    assert [v["member"] for v in payload["votes"]] == ["王一", "李二", "赵三", "钱四", "孙五"]


@pytest.mark.parametrize(
    "votes, rule",
    [
        ([("甲", 0), ("乙", 1)], "vote_members"),  # fewer than 3
        ([("甲", 0), ("甲", 1), ("丙", 1)], "vote_members"),  # one member twice
        ([("甲", 0), ("乙", 1), ("丙", 0), ("丁", 1)], "vote_majority"),  # a tie
    ],
)
def test_bad_votes_are_refused(clock, votes, rule):
    publicity, manager, _sealed, cands = ready(clock, separated_award=True, award_method="vote")
    before = counts()
    with pytest.raises((InvalidInput, Conflict)) as refused:
        services.decide_award(
            manager, publicity, votes=[{"member": m, "candidate": cands[i].pk} for m, i in votes]
        )
    assert refused.value.rule == rule
    assert counts() == before


def test_collective_deliberation_records_its_reasons(clock):
    publicity, manager, _sealed, cands = ready(
        clock, separated_award=True, award_method="deliberation", candidates_ranked=False
    )
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        services.decide_award(manager, publicity, winner=cands[2].pk, reasons="好")
    assert refused.value.rule == "deliberation_reasons"
    assert counts() == before
    decision = services.decide_award(
        manager,
        publicity,
        winner=cands[2].bidder.credit_code,
        reasons="经招标人集体议事，综合考虑履约能力与同类工程业绩，确定该候选人为中标人。",
    )
    assert decision.method == Decision.Method.DELIBERATION
    assert decision.winner == cands[2]
    assert "集体议事" in decision.text and "同类工程业绩" in decision.text


def test_the_lottery_is_a_verifiable_draw(clock):
    publicity, manager, _sealed, cands = ready(clock, separated_award=True, award_method="lottery")
    decision = services.decide_award(
        manager,
        publicity,
        passed_over=[{"candidate": cands[0].pk, "reason": "gave_up", "explanation": "放弃中标"}],
    )
    assert decision.method == Decision.Method.LOTTERY
    assert decision.status == Decision.Status.DECIDED
    draw = decision.draw
    assert draw is not None and draw.purpose == "award.lottery"
    assert draw.subject_kind == "section" and draw.subject_id == str(publicity.section_id)
    # Only the candidates not passed over were in the draw; the first drawn wins.
    refs = {c["ref"] for c in draw.snapshot["candidates"]}
    assert refs == {f"bidder:{c.bidder.credit_code}" for c in cands[1:]}
    assert draw.result == algorithm.select(bytes.fromhex(draw.seed), draw.inputs, draw.snapshot)
    assert f"bidder:{decision.winner.bidder.credit_code}" == draw.result["groups"][0]["members"][0]
    assert f"openbid draw verify {draw.pk}" in decision.text
    out = StringIO()
    call_command("draw", "verify", str(draw.pk), stdout=out)
    assert out.getvalue().rstrip().endswith("verified")


def test_a_separated_award_does_not_take_another_method(clock):
    publicity, manager, _sealed, cands = ready(clock, separated_award=True, award_method="lottery")
    before = counts()
    with pytest.raises(InvalidInput):
        services.decide_award(manager, publicity, winner=cands[0].pk)
    with pytest.raises(InvalidInput):
        services.decide_award(
            manager, publicity, votes=[{"member": "甲", "candidate": cands[0].pk}]
        )
    assert counts() == before
