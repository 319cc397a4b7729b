"""Web pages: home per role, language, registration form, status changes, passwords, tokens."""

from __future__ import annotations

import pytest

from openbid.accounts.models import Organisation
from openbid.accounts.roles import OrgType
from openbid.core.models import DomainEvent
from tests.factories import PASSWORD, centre_with_staff, credit_code, market_entity

pytestmark = pytest.mark.django_db


def test_home_is_chinese_by_default_and_english_on_request(client):
    zh = client.get("/")
    assert zh.status_code == 200
    assert '<html lang="zh-hans">' in zh.content.decode()
    assert "电子招标投标" in zh.content.decode()
    en = client.get("/?lang=en")
    assert '<html lang="en">' in en.content.decode()
    assert "Electronic tendering and bidding platform" in en.content.decode()
    # The choice is remembered.
    assert '<html lang="en">' in client.get("/").content.decode()
    assert '<html lang="zh-hans">' in client.get("/?lang=zh-hans").content.decode()


def test_unknown_language_falls_back_to_chinese(client):
    assert '<html lang="zh-hans">' in client.get("/?lang=fr").content.decode()


@pytest.mark.parametrize(
    ("org_type", "role"),
    [
        (OrgType.TENDERER, "tenderer_staff"),
        (OrgType.AGENCY, "agency_staff"),
        (OrgType.BIDDER, "bidder_staff"),
        (OrgType.EXPERT_EMPLOYER, "expert"),
    ],
)
def test_home_page_per_role(client, org_type, role):
    org, user = market_entity(org_type)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert f'data-role="{role}"' in page
    assert org.name in page


def test_centre_staff_home_and_admin(client):
    _, staff = centre_with_staff()
    client.force_login(staff)
    assert 'data-role="centre_staff"' in client.get("/").content.decode()
    assert client.get("/admin/").status_code == 200
    _, bidder = market_entity()
    client.force_login(bidder)
    assert client.get("/admin/").status_code == 302  # to the admin login: not for bidders


def test_registration_form(client):
    code = credit_code()
    form = {
        "name": "网页注册有限公司",
        "credit_code": code,
        "org_type": OrgType.BIDDER,
        "region_code": "330100",
        "admin_username": "webuser",
        "admin_password": PASSWORD,
        "commitment_version": "2026-1",
        "accept_commitment": "on",
    }
    refused = client.post("/register/", {**form, "accept_commitment": ""})
    assert refused.status_code == 200
    assert not Organisation.objects.exists()
    assert "诚信承诺" in refused.content.decode()
    bad_code = client.post("/register/", {**form, "credit_code": code[:-1] + "Z"})
    assert "统一社会信用代码" in bad_code.content.decode() or "credit" in bad_code.content.decode()
    assert not Organisation.objects.exists()
    ok = client.post("/register/", form)
    assert ok.status_code == 302
    assert Organisation.objects.get(credit_code=code).status == "committed"


def test_status_change_by_htmx_and_refusal_for_others(client):
    _, staff = centre_with_staff()
    org, bidder = market_entity()
    client.force_login(bidder)
    client.post(f"/organisations/{org.credit_code}/suspend/", {"reason": "x"})
    org.refresh_from_db()
    assert org.status == "committed"
    client.force_login(staff)
    response = client.post(
        f"/organisations/{org.credit_code}/verify/", {"reason": "ok"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="status-panel"' in response.content.decode()
    org.refresh_from_db()
    assert org.status == "verified"


def test_password_change_goes_through_the_service(client):
    _, user = market_entity()
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password": "Brand-new-passphrase-9",
            "new_password_again": "Brand-new-passphrase-9",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Brand-new-passphrase-9")
    assert DomainEvent.objects.filter(type="accounts.person.password_changed").exists()
    # Still signed in after the change.
    assert 'data-testid="whoami"' in client.get("/").content.decode()


def test_token_page_shows_the_token_once(client):
    _, user = market_entity()
    client.force_login(user)
    page = client.post("/tokens/", {"name": "ERP"}).content.decode()
    assert 'data-testid="new-token"' in page
    assert 'data-testid="new-token"' not in client.get("/tokens/").content.decode()


def test_public_pages(client):
    market_entity()
    for url in ["/organisations/", "/rules/", "/events/", "/register/"]:
        assert client.get(url).status_code == 200, url


def test_login_logout(client):
    market_entity(username="loginuser")
    response = client.post("/accounts/login/", {"username": "loginuser", "password": PASSWORD})
    assert response.status_code == 302
    assert client.post("/accounts/logout/").status_code == 302
    assert 'data-testid="whoami"' not in client.get("/").content.decode()


def test_static_files_are_served(client):
    """The stylesheet and htmx the base layout links to are found and served."""
    from django.contrib.staticfiles import finders

    assert finders.find("openbid/site.css")
    assert finders.find("openbid/htmx.min.js")
    page = client.get("/").content.decode()
    assert "/static/openbid/site.css" in page
