"""Service-level tests for organisations, people, roles and tokens: each allowed and refused."""

from __future__ import annotations

import pytest

from openbid.accounts import commitment, services
from openbid.accounts.models import ApiToken, Membership, Organisation, User
from openbid.accounts.permissions import has_role, require_role
from openbid.accounts.roles import OrgType, Role
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from tests.factories import PASSWORD, centre_with_staff, credit_code, market_entity

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (
        Organisation.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        DomainEvent.objects.count(),
    )


def register(**overrides):
    fields = {
        "name": "杭州某某建设有限公司",
        "credit_code": credit_code(),
        "org_type": OrgType.BIDDER,
        "region_code": "330100",
        "admin_username": "newbidder",
        "admin_password": PASSWORD,
        "accept_commitment": True,
    }
    fields.update(overrides)
    return services.register_market_entity(**fields)


class TestRegistration:
    def test_usable_at_once_with_commitment_recorded(self, clock):
        org, user = register()
        assert org.status == Organisation.Status.COMMITTED
        assert org.is_usable
        assert org.commitment_digest == commitment.digest()
        assert org.registered_at == clock.now()
        assert require_role(user, Role.BIDDER_STAFF, organisation=org).is_admin
        event = DomainEvent.objects.get(type="accounts.organisation.registered")
        assert event.payload["credit_code"] == org.credit_code
        assert event.payload["commitment_digest"] == commitment.digest()
        assert event.actor_org == org
        assert [str(s) for s in event.subjects.all()] == [f"organisation:{org.pk}"]
        assert "newbidder" not in str(event.payload)  # no personal data in public payloads

    def test_credit_code_is_normalised(self):
        code = credit_code()
        org, _ = register(credit_code=f"  {code.lower()} ")
        assert org.credit_code == code

    @pytest.mark.parametrize(
        ("overrides", "field", "error"),
        [
            ({"credit_code": "91330100MA0000001X"}, "credit_code", InvalidInput),
            ({"credit_code": "9133010"}, "credit_code", InvalidInput),
            ({"region_code": "999999"}, "region_code", InvalidInput),
            ({"accept_commitment": False}, "accept_commitment", InvalidInput),
            ({"commitment_version": "2019-1"}, "commitment_version", InvalidInput),
            ({"admin_password": "123"}, "admin_password", InvalidInput),
            ({"admin_username": "  "}, "admin_username", InvalidInput),
            ({"name": ""}, "name", InvalidInput),
            ({"org_type": "spaceship"}, "org_type", InvalidInput),
            ({"org_type": OrgType.REGULATOR}, "org_type", NotAllowed),
            ({"org_type": OrgType.TRADING_CENTRE}, "org_type", NotAllowed),
        ],
    )
    def test_refusals_name_the_field_and_write_nothing(self, overrides, field, error):
        centre_with_staff()
        before = counts()
        with pytest.raises(error) as caught:
            register(**overrides)
        assert caught.value.field == field
        assert caught.value.rule
        assert str(caught.value)
        assert counts() == before

    def test_wrong_check_character_names_the_rule(self):
        code = credit_code()
        wrong = code[:-1] + ("1" if code[-1] != "1" else "2")
        with pytest.raises(InvalidInput) as caught:
            register(credit_code=wrong)
        assert caught.value.rule == "gb32100_check_character"

    def test_duplicate_organisation_refused(self):
        org, _ = register()
        before = counts()
        with pytest.raises(Conflict) as caught:
            register(credit_code=org.credit_code, admin_username="someone-else")
        assert caught.value.field == "credit_code"
        assert caught.value.rule == "unique_credit_code"
        assert counts() == before

    def test_taken_login_name_refused_case_insensitively(self):
        register(admin_username="Zhang")
        before = counts()
        with pytest.raises(Conflict) as caught:
            register(admin_username="zhang")
        assert caught.value.field == "admin_username"
        assert counts() == before


class TestPublicBodies:
    def test_first_centre_needs_no_actor_but_the_second_does(self):
        centre, staff = centre_with_staff()
        assert centre.status == Organisation.Status.VERIFIED
        with pytest.raises(NotAllowed):
            services.create_public_body(
                None,
                name="另一个中心",
                credit_code=credit_code(authority="1", category="1"),
                org_type=OrgType.TRADING_CENTRE,
                region_code="330100",
            )
        second = services.create_public_body(
            staff,
            name="另一个中心",
            credit_code=credit_code(authority="1", category="1"),
            org_type=OrgType.TRADING_CENTRE,
            region_code="330100",
        )
        assert second.org_type == OrgType.TRADING_CENTRE

    def test_bidder_cannot_create_a_regulator(self):
        centre_with_staff()
        _, bidder = market_entity()
        before = counts()
        with pytest.raises(NotAllowed) as caught:
            services.create_public_body(
                bidder,
                name="假监管",
                credit_code=credit_code(authority="1", category="1"),
                org_type=OrgType.REGULATOR,
                region_code="330100",
            )
        assert caught.value.rule == "role_required"
        assert counts() == before

    def test_market_entity_types_are_not_public_bodies(self):
        _, staff = centre_with_staff()
        with pytest.raises(InvalidInput) as caught:
            services.create_public_body(
                staff,
                name="某公司",
                credit_code=credit_code(),
                org_type=OrgType.BIDDER,
                region_code="330100",
            )
        assert caught.value.field == "org_type"


class TestPeople:
    def test_org_admin_adds_a_colleague(self):
        org, admin = market_entity(OrgType.TENDERER)
        membership = services.add_person(
            admin, org, username="colleague", password=PASSWORD, role=Role.TENDERER_STAFF
        )
        assert has_role(membership.user, Role.TENDERER_STAFF, organisation=org)
        event = DomainEvent.objects.get(type="accounts.membership.granted")
        assert event.payload == {"role": Role.TENDERER_STAFF, "is_admin": False}

    def test_plain_member_cannot_add_people(self):
        org, admin = market_entity(OrgType.TENDERER)
        member = services.add_person(
            admin, org, username="colleague", password=PASSWORD, role=Role.TENDERER_STAFF
        ).user
        before = counts()
        with pytest.raises(NotAllowed) as caught:
            services.add_person(
                member, org, username="third", password=PASSWORD, role=Role.TENDERER_STAFF
            )
        assert caught.value.rule == "org_admin_required"
        assert counts() == before

    def test_admin_of_another_org_cannot_add_people(self):
        org, _ = market_entity(OrgType.TENDERER)
        _, other_admin = market_entity(OrgType.TENDERER)
        with pytest.raises(NotAllowed):
            services.add_person(
                other_admin, org, username="intruder", password=PASSWORD, role=Role.TENDERER_STAFF
            )

    def test_role_must_fit_the_organisation(self):
        org, admin = market_entity(OrgType.BIDDER)
        before = counts()
        with pytest.raises(InvalidInput) as caught:
            services.add_person(
                admin, org, username="fake-staff", password=PASSWORD, role=Role.CENTRE_STAFF
            )
        assert caught.value.field == "role"
        assert caught.value.rule == "role_fits_org_type"
        assert counts() == before

    def test_unknown_role_refused(self):
        org, admin = market_entity(OrgType.BIDDER)
        with pytest.raises(InvalidInput) as caught:
            services.add_person(admin, org, username="x1", password=PASSWORD, role="king")
        assert caught.value.field == "role"

    def test_ended_membership_no_longer_works(self):
        org, admin = market_entity(OrgType.BIDDER)
        m = services.add_person(
            admin, org, username="leaver", password=PASSWORD, role=Role.BIDDER_STAFF
        )
        services.end_membership(admin, m, reason="离职")
        assert not has_role(m.user, Role.BIDDER_STAFF)
        with pytest.raises(Conflict):
            services.end_membership(admin, m, reason="again")

    def test_bootstrap_without_actor_only_while_no_admin(self):
        centre, _staff = centre_with_staff()
        with pytest.raises(NotAllowed):
            services.add_person(
                None, centre, username="sneaky", password=PASSWORD, role=Role.CENTRE_STAFF
            )


class TestOrganisationStatus:
    def test_staff_verify_suspend_reinstate_with_events(self):
        _, staff = centre_with_staff()
        org, bidder = market_entity()
        services.verify_organisation(staff, org, note="核验一致")
        org.refresh_from_db()
        assert org.status == Organisation.Status.VERIFIED
        services.suspend_organisation(staff, org, reason="虚假承诺")
        org.refresh_from_db()
        assert org.status == Organisation.Status.SUSPENDED
        assert org.status_reason == "虚假承诺"
        # A suspended organisation's people can no longer act in it.
        assert not has_role(bidder, Role.BIDDER_STAFF)
        with pytest.raises(NotAllowed):
            require_role(bidder, Role.BIDDER_STAFF)
        services.reinstate_organisation(staff, org, reason="整改完成")
        org.refresh_from_db()
        assert org.status == Organisation.Status.VERIFIED
        types = list(
            DomainEvent.objects.filter(subjects__kind="organisation", subjects__ref=str(org.pk))
            .order_by("id")
            .values_list("type", flat=True)
        )
        assert types == [
            "accounts.organisation.registered",
            "accounts.organisation.verified",
            "accounts.organisation.suspended",
            "accounts.organisation.reinstated",
        ]

    @pytest.mark.parametrize("role_holder", ["bidder", "tenderer", "regulator"])
    def test_only_centre_staff_change_status(self, role_holder):
        _, staff = centre_with_staff()
        org, bidder = market_entity()
        actors = {"bidder": bidder}
        actors["tenderer"] = market_entity(OrgType.TENDERER)[1]
        from tests.factories import regulator_with_staff

        actors["regulator"] = regulator_with_staff(staff)[1]
        before = counts()
        with pytest.raises(NotAllowed) as caught:
            services.suspend_organisation(actors[role_holder], org, reason="不喜欢")
        assert caught.value.rule == "role_required"
        org.refresh_from_db()
        assert org.status == Organisation.Status.COMMITTED
        assert counts() == before

    def test_suspension_needs_a_reason(self):
        _, staff = centre_with_staff()
        org, _ = market_entity()
        with pytest.raises(InvalidInput) as caught:
            services.suspend_organisation(staff, org, reason="  ")
        assert caught.value.field == "reason"

    def test_wrong_transitions_refused(self):
        _, staff = centre_with_staff()
        org, _ = market_entity()
        services.verify_organisation(staff, org)
        with pytest.raises(Conflict) as caught:
            services.verify_organisation(staff, org)
        assert caught.value.rule == "organisation_status"
        with pytest.raises(Conflict):
            services.reinstate_organisation(staff, org, reason="not suspended")


class TestPasswordsAndTokens:
    def test_change_password(self):
        _, user = market_entity()
        with pytest.raises(InvalidInput) as caught:
            services.change_password(
                user, old_password="wrong", new_password="Another-passphrase-7"
            )
        assert caught.value.field == "old_password"
        with pytest.raises(InvalidInput) as caught:
            services.change_password(user, old_password=PASSWORD, new_password="short")
        assert caught.value.field == "new_password"
        services.change_password(user, old_password=PASSWORD, new_password="Another-passphrase-7")
        user.refresh_from_db()
        assert user.check_password("Another-passphrase-7")
        assert DomainEvent.objects.filter(type="accounts.person.password_changed").count() == 1

    def test_token_lifecycle(self):
        _, user = market_entity()
        token, raw = services.issue_api_token(user, name="ERP")
        assert raw.startswith("obt_")
        assert token.digest != raw and raw not in token.digest
        assert services.user_for_token(raw) == user
        assert services.user_for_token(raw + "x") is None
        services.revoke_api_token(user, token.pk)
        assert services.user_for_token(raw) is None
        with pytest.raises(Conflict):
            services.revoke_api_token(user, token.pk)

    def test_cannot_revoke_someone_elses_token(self):
        _, owner = market_entity()
        _, other = market_entity()
        token, raw = services.issue_api_token(owner, name="ERP")
        with pytest.raises(Exception) as caught:
            services.revoke_api_token(other, token.pk)
        assert caught.value.field == "token_id"
        assert ApiToken.objects.get(pk=token.pk).revoked_at is None
        assert services.user_for_token(raw) == owner
