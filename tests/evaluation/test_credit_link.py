"""The draw's recusal reads the credit context for real: an expert on the serious-dishonesty list
is found by the platform's identity-number digest or by the expert's account, and only while the
listing is in effect."""

from __future__ import annotations

import datetime as dt

import pytest

from openbid.credit import services as credit
from openbid.evaluation.credit_link import seriously_dishonest_expert_ids
from tests.credit.helpers import record_fields
from tests.evaluation.helpers import expert, id_number, staff

pytestmark = pytest.mark.django_db


def listed(staff_user, subject, **overrides):
    return credit.record_credit(
        staff_user,
        subject=subject,
        **record_fields(category="serious", serious_list=True, **overrides),
    )


def test_experts_on_the_serious_dishonesty_list_are_found(clock):
    centre = staff()
    by_number, by_account, honest = expert(centre), expert(centre), expert(centre)
    # The same person registered in the credit context with the same identity number.
    number = next(
        id_number(n)
        for n in range(1, 10**4)
        if credit.person_digest(id_number(n)) == by_number.id_digest
    )
    person = credit.register_person(centre, name=by_number.name, id_number=number)
    listed(centre, person)
    account_subject = credit.register_person(
        centre, name=by_account.name, id_number=id_number(9999), user=by_account.user
    )
    listed(centre, account_subject, document_number="另一文号")
    ids = [by_number.pk, by_account.pk, honest.pk]
    assert seriously_dishonest_expert_ids(ids, dt.date(2026, 3, 2)) == {by_number.pk, by_account.pk}
    # Outside the listing's validity period nobody is listed.
    assert seriously_dishonest_expert_ids(ids, dt.date(2027, 1, 5)) == set()
    assert seriously_dishonest_expert_ids([], dt.date(2026, 3, 2)) == set()
