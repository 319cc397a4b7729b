"""The award's links to the other contexts: a hold of the disputes context (a pending objection to
the evaluation result, a regulator's suspension) blocks the award's steps; the evaluation
report's candidates are disclosed from the bids as read out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openbid.award import evaluation_link, services
from openbid.core import holds
from openbid.core.errors import Conflict
from openbid.opening.models import OpenedBid
from tests.award.helpers import after_publicity, in_publicity

pytestmark = pytest.mark.django_db


def test_a_hold_blocks_the_award_decision(clock: Any, monkeypatch: Any) -> None:
    publicity, manager, _sealed = in_publicity(clock)
    after_publicity(clock, publicity)
    hold = holds.Hold(
        tender_id=publicity.tender_id,
        case="异议 YY-2026-0009",
        reason="投标人对评标结果提出异议",
        rule="objection_evaluation",
        article="Reg art. 54",
        steps=holds.steps_from("award"),
        since=clock.now() - dt.timedelta(hours=1),
    )
    monkeypatch.setattr(holds, "_sources", [lambda tender_id: [hold]])
    assert "YY-2026-0009" in (services.award_blocked(publicity.tender) or "")
    with pytest.raises(Conflict):
        services.decide_award(manager, publicity)
    monkeypatch.setattr(holds, "_sources", [])
    assert services.award_blocked(publicity.tender) is None
    assert services.decide_award(manager, publicity).winner is not None


def test_disclosed_items_come_from_the_read_out(clock: Any) -> None:
    publicity, _manager, _sealed = in_publicity(clock)
    tender = publicity.tender
    read_out = OpenedBid(duration_days=300, form={"质量目标": "合格", "项目经理": "张三"})
    items = evaluation_link.disclosed_items(read_out, tender)
    assert items["duration"] == "300日历天" and items["quality"] == "合格"
    assert items["project_manager"] == "张三"
    # What the bid did not state is shown as not stated, never invented.
    assert items["project_manager_certificate"] == evaluation_link.NOT_STATED
    assert items["qualification"].endswith(tender.qualification)
    silent = evaluation_link.disclosed_items(OpenedBid(form={}), tender)
    assert silent["duration"] == silent["quality"] == evaluation_link.NOT_STATED
