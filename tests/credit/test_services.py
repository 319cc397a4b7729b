"""Credit services: records, corrections, revocation, repair, people — allowed and refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.credit import notifications, services
from openbid.credit.models import CreditRecord, Notification, RepairApplication
from tests.credit.helpers import credit_counts, make_record, record_fields
from tests.factories import market_entity, regulator_with_staff

pytestmark = pytest.mark.django_db

D = dt.date


def test_staff_record_a_penalty_with_its_event_and_notification(staff, bidder):
    org, user = bidder
    rec = make_record(staff, org, document_number="测发改罚〔2026〕3号")
    assert rec.number == f"CR-{rec.pk:06d}" and rec.status == "active"
    event = DomainEvent.objects.get(type="credit.record.created")
    assert event.payload["record"] == rec.number
    assert event.payload["subject"] == org.credit_code
    assert event.payload["legal_basis"] == "《招标投标法实施条例》第六十八条"
    assert "facts" not in event.payload and len(event.private_digest) == 64
    assert {(s.kind, s.ref) for s in event.subjects.all()} == {
        ("credit_record", str(rec.pk)),
        ("organisation", str(org.pk)),
    }
    note = Notification.objects.get(organisation=org)
    with translation.override("en"):
        assert rec.number in notifications.text(note)
        assert notifications.for_person(user)[0]["text"].startswith("A credit record")


def test_a_regulator_records_too_and_a_non_public_record_stays_out_of_the_ledger(staff, bidder):
    _org, regulator = regulator_with_staff(staff)
    org, _user = bidder
    rec = make_record(regulator, org, is_public=False, category="minor")
    event = DomainEvent.objects.get(type="credit.record.created")
    assert event.payload == {"record": rec.number, "public": False}
    assert [s.kind for s in event.subjects.all()] == ["credit_record"]
    assert org.name not in str(event.payload)


def test_market_entities_may_not_record(bidder, clock):
    org, user = bidder
    before = credit_counts()
    with pytest.raises(NotAllowed) as caught:
        make_record(user, org)
    assert caught.value.rule == "role_required"
    assert credit_counts() == before


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"legal_basis": "  "}, "legal_basis", "credit_record_legal_basis"),
        (
            {"valid_from": D(2026, 2, 1), "valid_until": D(2026, 1, 31)},
            "valid_until",
            "credit_validity_period",
        ),
        ({"valid_from": D(2026, 1, 4)}, "valid_from", "credit_validity_period"),
        (
            {"decided_on": D(2026, 3, 3), "valid_from": D(2026, 3, 3)},
            "decided_on",
            "credit_decided_in_past",
        ),
        ({"valid_until": D(2029, 1, 6)}, "valid_until", "penalty_display_max"),
        ({"serious_list": True}, "serious_list", "credit_serious_list_category"),
        ({"source": "commendation"}, "category", "credit_category_fits_source"),
        (
            {"source": "admin_penalty", "category": "good"},
            "category",
            "credit_category_fits_source",
        ),
        ({"source": "rumour"}, "source", "credit_source"),
        ({"title": ""}, "title", "required"),
        ({"issuing_body": ""}, "issuing_body", "required"),
    ],
)
def test_bad_records_are_refused_naming_field_and_rule(staff, bidder, overrides, field, rule):
    org, _user = bidder
    before = credit_counts()
    with pytest.raises(InvalidInput) as caught:
        make_record(staff, org, **overrides)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert credit_counts() == before


def test_refusal_messages_name_the_rule_in_plain_words(staff, bidder):
    org, _user = bidder
    with translation.override("en"), pytest.raises(InvalidInput) as caught:
        make_record(staff, org, legal_basis="")
    assert "legal basis" in str(caught.value)
    assert caught.value.article == "国办发〔2020〕49号 §2"
    with translation.override("en"), pytest.raises(InvalidInput) as caught:
        make_record(staff, org, valid_from=D(2026, 2, 1), valid_until=D(2026, 1, 31))
    assert str(caught.value) == (
        "The end of the validity period (2026-01-31) is before its start (2026-02-01)."
    )


def test_the_same_decision_is_recorded_once(staff, bidder):
    org, _user = bidder
    first = make_record(staff, org, document_number="测发改罚〔2026〕3号")
    before = credit_counts()
    with pytest.raises(Conflict) as caught:
        make_record(staff, org, document_number="测发改罚〔2026〕3号")
    assert caught.value.rule == "credit_duplicate_record" and first.number in str(caught.value)
    assert credit_counts() == before


def test_a_record_is_corrected_by_superseding_it(staff, bidder):
    org, _user = bidder
    old = make_record(staff, org, document_number="A-1")
    new = services.supersede_record(
        staff, old, reason="文书号录入错误", document_number="A-2", category="minor"
    )
    old.refresh_from_db()
    assert old.status == "superseded" and old.status_reason == "文书号录入错误"
    assert new.supersedes == old and new.category == "minor" and new.facts == old.facts
    assert old.facts == record_fields()["facts"]  # the old facts are untouched
    event = DomainEvent.objects.get(type="credit.record.superseded")
    assert event.payload["supersedes"] == old.number
    with pytest.raises(Conflict) as caught:
        services.supersede_record(staff, old, reason="again", title="x")
    assert caught.value.rule == "credit_record_never_edited"


def test_a_correction_is_checked_like_a_new_record(staff, bidder):
    org, _user = bidder
    old = make_record(staff, org)
    before = credit_counts()
    with pytest.raises(InvalidInput) as caught:
        services.supersede_record(staff, old, reason="x", valid_until=D(2025, 1, 1))
    assert caught.value.rule == "credit_validity_period"
    assert credit_counts() == before
    old.refresh_from_db()
    assert old.status == "active"


def test_revoke(staff, bidder):
    org, _user = bidder
    rec = make_record(staff, org)
    services.revoke_record(staff, rec, reason="行政复议撤销原处罚决定")
    rec.refresh_from_db()
    assert rec.status == "revoked"
    assert DomainEvent.objects.filter(type="credit.record.revoked").count() == 1
    with pytest.raises(InvalidInput):
        services.revoke_record(staff, make_record(staff, org), reason="")


# --- repair ------------------------------------------------------------------------------------


@pytest.fixture
def penalised(staff, bidder, clock):
    """An ordinary penalty from 2025-11-01: its 3-month minimum ended on 2026-02-01."""
    org, user = bidder
    rec = make_record(
        staff,
        org,
        decided_on=D(2025, 11, 1),
        valid_from=D(2025, 11, 1),
        valid_until=D(2026, 10, 31),
    )
    return rec, org, user


def test_repair_end_to_end_through_the_services(staff, penalised):
    rec, org, user = penalised
    evidence = SimpleUploadedFile("整改报告.pdf", b"%PDF-1.7 rectified", "application/pdf")
    application = services.apply_for_repair(
        user, rec, statement="已完成整改并作出信用承诺。", evidence=evidence
    )
    assert application.status == "submitted" and len(application.evidence_sha256) == 64
    assert application.evidence.read() == b"%PDF-1.7 rectified"
    services.accept_repair(staff, application)
    application.refresh_from_db()
    assert application.status == "under_review"
    services.decide_repair(staff, application, approve=True, reason="整改到位，符合修复条件。")
    application.refresh_from_db()
    rec.refresh_from_db()
    assert application.status == "approved" and application.decision_reason
    assert rec.status == "repaired"
    types = list(
        DomainEvent.objects.filter(type__startswith="credit.repair").values_list("type", flat=True)
    )
    assert types == ["credit.repair.applied", "credit.repair.accepted", "credit.repair.approved"]
    kinds = list(
        Notification.objects.filter(organisation=org).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == ["record_created", "repair_submitted", "repair_accepted", "repair_approved"]
    # The record stays in the database and the ledger; a repaired record cannot be repaired again.
    assert CreditRecord.objects.filter(pk=rec.pk).exists()
    with pytest.raises(Conflict) as caught:
        services.apply_for_repair(user, rec, statement="again")
    assert caught.value.rule == "credit_repair_active_only"


def test_a_rejected_repair_leaves_the_record_and_allows_a_new_application(staff, penalised):
    rec, org, user = penalised
    application = services.apply_for_repair(user, rec, statement="已整改。")
    services.accept_repair(staff, application)
    services.decide_repair(staff, application, approve=False, reason="整改材料不完整。")
    rec.refresh_from_db()
    assert rec.status == "active"
    note = Notification.objects.filter(organisation=org).latest("id")
    with translation.override("en"):
        assert "rejected" in notifications.text(note) and "整改材料不完整" in notifications.text(
            note
        )
    assert services.apply_for_repair(user, rec, statement="补充材料。").status == "submitted"


def test_repair_before_the_minimum_period_names_the_date_and_rule(staff, bidder, clock):
    org, user = bidder
    rec = make_record(staff, org, decided_on=D(2026, 1, 5), valid_from=D(2026, 1, 5))
    before = credit_counts()
    with translation.override("en"), pytest.raises(Conflict) as caught:
        services.apply_for_repair(user, rec, statement="已整改。")
    error = caught.value
    assert (error.field, error.rule, error.at) == ("record", "penalty_display", D(2026, 4, 5))
    assert error.article == "NDRC Order 58 (2023)"
    assert "from 2026-04-05" in str(error)
    assert credit_counts() == before
    clock.set("2026-04-05T08:00:00")
    assert services.apply_for_repair(user, rec, statement="已整改。").status == "submitted"


def test_serious_and_listed_records_wait_a_year(staff, bidder, clock):
    org, user = bidder
    serious = make_record(
        staff, org, category="serious", decided_on=D(2025, 6, 1), valid_from=D(2025, 6, 1)
    )
    with pytest.raises(Conflict) as caught:
        services.apply_for_repair(user, serious, statement="x")
    assert (caught.value.rule, caught.value.at) == ("penalty_display_min_serious", D(2026, 6, 1))
    listed = make_record(
        staff,
        org,
        category="serious",
        serious_list=True,
        decided_on=D(2025, 3, 1),
        valid_from=D(2025, 3, 2),
        valid_until=D(2027, 3, 1),
        document_number="L-1",
    )
    assert services.apply_for_repair(user, listed, statement="x").status == "submitted"


def test_unrepairable_good_and_foreign_records_are_refused(staff, penalised):
    rec, org, user = penalised
    unrepairable = make_record(
        staff,
        org,
        repairable=False,
        decided_on=D(2025, 1, 1),
        valid_from=D(2025, 1, 1),
        document_number="U-1",
    )
    with pytest.raises(InvalidInput) as caught:
        services.apply_for_repair(user, unrepairable, statement="x")
    assert (caught.value.field, caught.value.rule) == ("record", "credit_repair_unrepairable")
    good = make_record(staff, org, source="commendation", category="good", document_number="G-1")
    with pytest.raises(InvalidInput) as caught:
        services.apply_for_repair(user, good, statement="x")
    assert caught.value.rule == "credit_repair_negative_only"
    _other, stranger = market_entity()
    with pytest.raises(NotAllowed) as caught:
        services.apply_for_repair(stranger, rec, statement="x")
    assert caught.value.rule == "credit_repair_own_records"
    services.apply_for_repair(user, rec, statement="x")
    before = credit_counts()
    with pytest.raises(Conflict) as caught:
        services.apply_for_repair(user, rec, statement="x")
    assert caught.value.rule == "credit_one_open_repair"
    with pytest.raises(InvalidInput) as caught:
        services.apply_for_repair(
            user,
            make_record(
                staff,
                org,
                document_number="E-1",
                decided_on=D(2025, 1, 1),
                valid_from=D(2025, 1, 1),
            ),
            statement="x",
            evidence=SimpleUploadedFile("a.exe", b"MZ"),
        )
    assert caught.value.rule == "evidence_type"
    assert RepairApplication.objects.count() == 1
    assert before["RepairApplication"] == 1


def test_repair_steps_in_order_and_by_staff_only(staff, penalised):
    rec, _org, user = penalised
    application = services.apply_for_repair(user, rec, statement="x")
    with pytest.raises(Conflict) as caught:
        services.decide_repair(staff, application, approve=True, reason="ok")
    assert caught.value.rule == "credit_repair_steps"
    with pytest.raises(NotAllowed):
        services.accept_repair(user, application)
    services.accept_repair(staff, application)
    with pytest.raises(InvalidInput) as caught:
        services.decide_repair(staff, application, approve=True, reason=" ")
    assert caught.value.field == "reason"
    with pytest.raises(Conflict):
        services.accept_repair(staff, application)


def test_due_dates_in_working_days(staff, penalised):
    rec, _org, user = penalised
    application = services.apply_for_repair(user, rec, statement="x")  # Monday 2026-03-02
    assert services.due_dates(application) == {"accept_by": D(2026, 3, 4), "decide_by": None}


# --- people ------------------------------------------------------------------------------------


def test_experts_are_people_known_by_a_keyed_digest(staff, clock):
    _employer, expert_user = market_entity("expert_employer")
    subject = services.register_person(
        staff, name="张三", id_number="11010519491231002X", user=expert_user
    )
    assert subject.reference == f"P-{subject.pk}"
    assert subject.person_digest == services.person_digest("11010519491231002x")
    assert "11010519491231002X" not in str(
        DomainEvent.objects.get(type="credit.person.registered").payload
    )
    with pytest.raises(Conflict):
        services.register_person(staff, name="张三", id_number="11010519491231002X")
    with pytest.raises(InvalidInput) as caught:
        services.register_person(staff, name="李四", id_number="110105194912310021")
    assert caught.value.rule == "gb11643"
    rec = services.record_credit(
        staff,
        subject=subject,
        **record_fields(
            source="post_award_review",
            category="ordinary",
            decided_on=D(2025, 10, 1),
            valid_from=D(2025, 10, 1),
            title="评标打分明显不合理",
        ),
    )
    note = Notification.objects.get(user=expert_user)
    assert note.params["record"] == rec.number
    assert (
        services.apply_for_repair(expert_user, rec, statement="已参加培训。").status == "submitted"
    )
