"""A tenderer in a real browser from the candidate publicity to the signed, published contract:
it sees the candidates and the period, decides the award after the publicity, prepares the
notices, signs the award notice with its certificate (the signature pasted from its client),
drafts the contract from the centre's template and signs it; the winner signs it on its own page.

The tender, bids and candidates are made through the services (``tests/award/helpers.py``); the
signatures are computed here as ``openbid-bidder sign`` computes them."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.urls import reverse

from openbid.award.models import Contract
from openbid.crypto.document_message import signing_message
from openbid.crypto.suites import get_suite
from tests.award import helpers as h
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def new_page(browser: Any, live_server: Any, username: str) -> Any:
    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")
    return page


def paste_signature(page: Any, key: Any, kind: str, document_id: int) -> None:
    sha256 = page.get_attribute("[data-testid=sign-form] input[name=sha256]", "value")
    suite = get_suite(h.SUITE)
    signature = suite.sign(key.private, signing_message(kind, document_id, sha256))
    page.fill("[data-testid=signature]", base64.b64encode(signature).decode())
    page.fill("[data-testid=public-key]", base64.b64encode(key.public).decode())
    page.click("[data-testid=sign]")


def test_a_tenderer_goes_from_candidate_publicity_to_the_signed_contract(
    browser, live_server, clock
):
    publicity, manager, sealed = h.in_publicity(clock)
    tender = publicity.tender
    h.template()
    tenderer = tender.project.tenderer
    manager_key = h.signing_key(manager, tenderer)
    award_url = f"{live_server.url}{reverse('award:tender', args=[tender.pk])}"

    boss = new_page(browser, live_server, manager.username)
    boss.goto(f"{live_server.url}{reverse('tendering:tender', args=[tender.pk])}")
    boss.click("[data-testid=award-link]")
    assert boss.locator("[data-testid=candidate]").count() == 3
    assert boss.get_attribute("[data-testid=publicity-period]", "data-open") == "1"
    assert boss.locator("[data-testid=decide-form]").count() == 0

    h.after_publicity(clock, publicity)
    boss.goto(award_url)
    boss.click("[data-testid=decide]")
    boss.wait_for_selector("[data-testid=decision][data-method=first_ranked]")
    boss.click("[data-testid=prepare-notices]")
    boss.click("[data-testid=sign-notice-link]")
    notice_id = int(boss.url.rstrip("/").split("/")[-1])
    paste_signature(boss, manager_key, "award-notice", notice_id)
    boss.wait_for_selector("[data-testid=issued]")

    boss.goto(award_url)
    boss.fill("[data-testid=duration]", "301")
    boss.fill("[data-testid=key-terms]", "按招标文件合同条款执行")
    boss.click("[data-testid=draft-contract]")
    boss.wait_for_selector("[data-testid=sign-form]")
    contract = Contract.objects.get()
    assert boss.inner_text("[data-testid=contract-sha256]") == contract.versions.get().sha256
    paste_signature(boss, manager_key, "contract", contract.pk)
    boss.wait_for_selector("[data-testid=contract-signature]")

    winner = h.winner_of(contract, sealed)
    winner_key = h.signing_key(winner.user, winner.org)
    them = new_page(browser, live_server, winner.user.username)
    them.goto(f"{live_server.url}{reverse('award:my_notices')}")
    them.click("[data-testid=my-contract] a")
    paste_signature(them, winner_key, "contract", contract.pk)
    them.wait_for_selector("[data-testid=contract-signed]")

    boss.goto(award_url)
    assert boss.get_attribute("[data-testid=tender-status]", "data-status") == "contracted"
    public = browser.new_context(locale="zh-CN").new_page()
    public.goto(f"{live_server.url}{reverse('award:contracts')}")
    assert contract.number in public.inner_text("[data-testid=contracts]")
    for page in (boss, them, public):
        page.context.close()
