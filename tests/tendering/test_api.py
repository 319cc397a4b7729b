"""The tendering API: the whole path from project registration to clarifications, and refusals.

Every refusal is checked for its error (status, field, rule, article, ``at``) and for leaving no
partial write behind: the row counts of every tendering table and of the event record stay the
same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from django.test import Client

from openbid.accounts.roles import OrgType
from openbid.accounts.services import issue_api_token
from openbid.tendering import services
from openbid.tendering.lifecycle import State
from openbid.tendering.models import (
    Notice,
    Tender,
)
from tests.factories import centre_with_staff, market_entity
from tests.tendering.factories import PDF, draft_tender, pdf, row_counts, schedule, tender_fields

pytestmark = pytest.mark.django_db

API = "/api/v1"


# --- helpers -----------------------------------------------------------------------------------


def bearer(user: Any) -> dict[str, str]:
    _token, raw = issue_api_token(user, name="test client")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client: Client, url: str, body: Any = None, auth: dict[str, str] | None = None) -> Any:
    return client.post(
        API + url, data=json.dumps(body or {}), content_type="application/json", **(auth or {})
    )


def patch(client: Client, url: str, body: Any, auth: dict[str, str]) -> Any:
    return client.patch(API + url, data=json.dumps(body), content_type="application/json", **auth)


def get(client: Client, url: str, auth: dict[str, str] | None = None) -> Any:
    return client.get(API + url, **(auth or {}))


def upload(client: Client, tender_id: int, file: Any, auth: dict[str, str]) -> Any:
    return client.post(f"{API}/tenders/{tender_id}/documents", {"file": file}, **auth)


def jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in fields.items()}


def tender_body(**overrides: Any) -> dict[str, Any]:
    return jsonable(tender_fields(**overrides))


def project_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "code": "2026-330100-48-01-000101",
        "name": "示范道路改造工程",
        "region_code": "330100",
        "industry": "municipal",
        "funding_source": "budget",
        "state_funding_percent": "100",
        "estimated_investment": "50000000",
        "approval_ref": "杭发改审批〔2026〕12号",
    }
    body.update(overrides)
    return body


def counts() -> dict[str, int]:
    return row_counts()


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert set(body) >= {"code", "message", "field", "rule", "article", "at"}
    assert body["message"]
    return body


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def published_via_api(client: Client, auth: dict[str, str], project_id: int, **overrides: Any):
    created = post(client, f"/projects/{project_id}/tenders", tender_body(**overrides), auth)
    assert created.status_code == 201, created.content
    tender_id = created.json()["id"]
    assert upload(client, tender_id, pdf(), auth).status_code == 201
    published = post(client, f"/tenders/{tender_id}/publish", {}, auth)
    assert published.status_code == 201, published.content
    return tender_id, published.json()


# --- the whole path ----------------------------------------------------------------------------


def test_from_project_registration_to_a_moved_deadline(client, clock):
    tenderer_org, tenderer = market_entity(OrgType.TENDERER)
    manager = bearer(tenderer)

    registered = post(client, "/projects", project_body(), manager)
    assert registered.status_code == 201, registered.content
    project = registered.json()
    assert project["tenderer"] == tenderer_org.credit_code
    assert project["estimated_investment"] == "50000000.00"
    assert project["registered_at"].endswith("+08:00")
    assert get(client, f"/projects/{project['id']}", manager).json()["code"] == project["code"]

    created = post(client, f"/projects/{project['id']}/tenders", tender_body(), manager)
    assert created.status_code == 201, created.content
    draft = created.json()
    tender_id = draft["id"]
    assert draft["status"] == State.DRAFT
    assert [s["number"] for s in draft["sections"]] == [1, 2]
    assert draft["sections"][0]["deposit"] == "400000.00"
    assert draft["sections"][0]["ceiling_price"] == "21000000.00"
    assert draft["sections"][1]["ceiling_price"] is None
    assert draft["invited"] == []

    # A draft is the managers' alone.
    assert get(client, f"/tenders/{tender_id}").status_code == 404
    assert get(client, "/tenders").json()["count"] == 0
    assert get(client, f"/tenders/{tender_id}", manager).json()["status"] == State.DRAFT

    checks = get(client, f"/tenders/{tender_id}/checks", manager).json()
    assert checks["publishable"] is False
    assert [p["rule"] for p in checks["problems"]] == ["documents_required"]
    assert checks["problems"][0]["field"] == "documents"

    uploaded = upload(client, tender_id, pdf(), manager)
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["version"] == 1
    assert uploaded.json()["size"] == len(PDF)
    assert uploaded.json()["sha256"] == hashlib.sha256(PDF).hexdigest()

    checks = get(client, f"/tenders/{tender_id}/checks", manager).json()
    assert checks == {"status": "draft", "publishable": True, "problems": []}

    published = post(client, f"/tenders/{tender_id}/publish", {}, manager)
    assert published.status_code == 201, published.content
    notice = published.json()
    assert notice["kind"] == Notice.Kind.TENDER
    assert notice["sha256"] == hashlib.sha256(notice["body"].encode()).hexdigest()

    # Anyone sees the published tender and its notice.
    public = get(client, f"/tenders/{tender_id}").json()
    assert public["status"] == State.PUBLISHED
    assert public["invited"] is None
    assert public["rules_date"] == "2026-03-02"
    assert [n["id"] for n in public["notices"]] == [notice["id"]]
    assert public["bid_deadline"].endswith("+08:00")
    listed = get(client, "/tenders").json()
    assert listed["count"] == 1
    assert listed["items"][0]["id"] == tender_id
    shown = get(client, f"/notices/{notice['id']}").json()
    assert shown["body"] == notice["body"]
    assert shown["sha256"] == notice["sha256"]
    assert shown["tender"] == tender_id

    # A bidder obtains the documents once issue has begun, then downloads them.
    bidder_org, bidder = market_entity()
    bidder_auth = bearer(bidder)
    assert error(get(client, f"/tenders/{tender_id}/documents", bidder_auth), 403)["rule"] == (
        "obtained_documents"
    )
    clock.advance(hours=2)
    obtained = post(client, f"/tenders/{tender_id}/obtain", {}, bidder_auth)
    assert obtained.status_code == 200, obtained.content
    assert obtained.json()["organisation"] == bidder_org.credit_code
    versions = get(client, f"/tenders/{tender_id}/documents", bidder_auth).json()
    assert [(d["version"], d["sha256"]) for d in versions] == [(1, uploaded.json()["sha256"])]
    download = get(client, f"/tenders/{tender_id}/documents/1", bidder_auth)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["ETag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'

    # The bidder asks; everyone sees the question, nobody sees who asked.
    asked = post(
        client, f"/tenders/{tender_id}/questions", {"text": "二标段工期能否延长？"}, bidder_auth
    )
    assert asked.status_code == 201, asked.content
    question_id = asked.json()["id"]
    questions = get(client, f"/tenders/{tender_id}/questions")
    assert [q["text"] for q in questions.json()] == ["二标段工期能否延长？"]
    assert questions.json()[0]["answer"] is None
    assert bidder_org.credit_code not in questions.content.decode()
    assert bidder_org.name not in questions.content.decode()

    # The manager answers by clarification.
    answered = post(
        client,
        f"/tenders/{tender_id}/clarifications",
        {"text": "二标段工期不变。", "affects_preparation": False, "answers": [question_id]},
        manager,
    )
    assert answered.status_code == 201, answered.content
    assert answered.json()["number"] == 1
    assert answered.json()["answers"] == [question_id]
    assert answered.json()["notice"]["kind"] == Notice.Kind.CLARIFICATION
    answer = get(client, f"/tenders/{tender_id}/questions").json()[0]["answer"]
    assert answer == {
        "clarification": 1,
        "text": "二标段工期不变。",
        "issued_at": answered.json()["issued_at"],
    }

    # Ten days before the deadline, an amendment that affects bid preparation must move it.
    tender = Tender.objects.get(pk=tender_id)
    old_deadline = tender.bid_deadline
    clock.set(old_deadline - dt.timedelta(days=10))
    earliest = services.earliest_deadline_after_clarification(tender, clock.now())
    assert earliest >= clock.now() + dt.timedelta(days=15)
    amendment = {"text": "一标段工程量清单第3项修改为1200立方米。", "affects_preparation": True}
    before = counts()
    late = error(post(client, f"/tenders/{tender_id}/clarifications", amendment, manager), 422)
    assert late["rule"] == "clarification_lead_bid"
    assert late["article"] == "Law art. 23; Reg art. 21"
    assert late["field"] == "new_bid_deadline"
    assert when(late["at"]) == earliest
    assert counts() == before
    assert Tender.objects.get(pk=tender_id).bid_deadline == old_deadline

    moved = post(
        client,
        f"/tenders/{tender_id}/clarifications",
        {**amendment, "new_bid_deadline": late["at"]},
        manager,
    )
    assert moved.status_code == 201, moved.content
    assert when(moved.json()["previous_deadline"]) == old_deadline
    assert when(moved.json()["bid_deadline"]) == earliest
    assert when(get(client, f"/tenders/{tender_id}").json()["bid_deadline"]) == earliest
    clarifications = get(client, f"/tenders/{tender_id}/clarifications").json()
    assert [c["number"] for c in clarifications] == [1, 2]
    assert [c["notice"]["id"] for c in clarifications] == [
        answered.json()["notice"]["id"],
        moved.json()["notice"]["id"],
    ]
    amended = get(client, f"/notices/{moved.json()['notice']['id']}").json()
    assert amended["body"].startswith("第2号澄清/修改")


def test_each_clarification_has_its_own_notice(client, clock):
    _org, tenderer = market_entity(OrgType.TENDERER)
    auth = bearer(tenderer)
    project_id = post(client, "/projects", project_body(), auth).json()["id"]
    tender_id, _notice = published_via_api(client, auth, project_id)
    for text in ("第一次澄清。", "第二次澄清。"):  # at the same instant: the clock is frozen
        body = {"text": text, "affects_preparation": False}
        assert post(client, f"/tenders/{tender_id}/clarifications", body, auth).status_code == 201
    clarifications = get(client, f"/tenders/{tender_id}/clarifications").json()
    bodies = [get(client, f"/notices/{c['notice']['id']}").json()["body"] for c in clarifications]
    assert [b.splitlines()[1] for b in bodies] == ["第一次澄清。", "第二次澄清。"]

    # Unknown question ids and payloads with the wrong shape are refused, writing nothing.
    before = counts()
    unknown = {"text": "答复", "affects_preparation": False, "answers": [999]}
    refused = post(client, f"/tenders/{tender_id}/clarifications", unknown, auth)
    assert error(refused, 422)["field"] == "answers"
    naive = {"text": "x", "affects_preparation": True, "new_bid_deadline": "2026-05-06T09:30"}
    refused = post(client, f"/tenders/{tender_id}/clarifications", naive, auth)
    assert (error(refused, 422)["field"], error(refused, 422)["rule"]) == (
        "new_bid_deadline",
        "schema",
    )
    assert counts() == before


def test_plans_are_published_and_public(client, clock):
    _org, tenderer = market_entity(OrgType.TENDERER)
    auth = bearer(tenderer)
    project_id = post(client, "/projects", project_body(), auth).json()["id"]
    body = {"title": "2026年道路改造施工招标", "expected_notice_date": "2026-04-01"}
    published = post(
        client, f"/projects/{project_id}/plans", {**body, "estimated_amount": "28000000"}, auth
    )
    assert published.status_code == 201, published.content
    assert published.json()["estimated_amount"] == "28000000.00"
    assert [p["id"] for p in get(client, "/projects", auth).json()] == [project_id]
    assert get(client, "/projects", bearer(market_entity()[1])).json() == []
    plans = get(client, "/plans").json()
    assert plans["count"] == 1
    assert plans["items"][0]["title"] == body["title"]

    before = counts()
    past = post(
        client,
        f"/projects/{project_id}/plans",
        {**body, "expected_notice_date": "2026-03-01", "estimated_amount": "1"},
        auth,
    )
    assert error(past, 422)["field"] == "expected_notice_date"
    floats = post(
        client, f"/projects/{project_id}/plans", {**body, "estimated_amount": 28000000.5}, auth
    )
    refused = error(floats, 422)
    assert (refused["field"], refused["rule"]) == ("estimated_amount", "schema")
    assert counts() == before

    # A plan can be the tender's, but only within its project.
    tender = post(
        client,
        f"/projects/{project_id}/tenders",
        tender_body(plan=published.json()["id"]),
        auth,
    )
    assert tender.status_code == 201, tender.content
    assert tender.json()["plan"] == published.json()["id"]


def test_lifecycle_is_public(client):
    lifecycle = get(client, "/lifecycle").json()
    assert {s["value"] for s in lifecycle["states"]} == set(State.values)
    assert lifecycle["main_line"][0] == State.DRAFT
    publish = next(t for t in lifecycle["transitions"] if t["name"] == "publish")
    assert publish["sources"] == [State.DRAFT]
    assert publish["target"] == State.PUBLISHED


# --- who may act -------------------------------------------------------------------------------


def test_a_bidder_cannot_register_or_create_a_tender(client, clock):
    tender, _tenderer = draft_tender()
    _org, bidder = market_entity()
    auth = bearer(bidder)
    before = counts()
    refused = post(client, f"/projects/{tender.project_id}/tenders", tender_body(), auth)
    assert error(refused, 403)["rule"] == "tender_manager"
    assert error(get(client, f"/projects/{tender.project_id}", auth), 404)["field"] == "project_id"
    assert counts() == before


def test_another_tenderers_staff_cannot_touch_someone_elses_tender(client, clock):
    tender, owner = draft_tender()
    services.upload_document(owner, tender, pdf())
    _org, stranger = market_entity(OrgType.TENDERER)
    auth = bearer(stranger)
    before = counts()

    assert error(post(client, f"/tenders/{tender.pk}/publish", {}, auth), 403)["rule"] == (
        "tender_manager"
    )
    assert error(patch(client, f"/tenders/{tender.pk}", {"title": "x"}, auth), 403)["rule"] == (
        "tender_manager"
    )
    assert error(get(client, f"/tenders/{tender.pk}/checks", auth), 403)["rule"] == (
        "tender_manager"
    )
    assert error(upload(client, tender.pk, pdf(), auth), 403)["rule"] == "tender_manager"
    cancel = post(client, f"/tenders/{tender.pk}/cancel", {"reason": "x"}, auth)
    assert error(cancel, 403)["rule"] == "tender_manager"
    # Nor can they see the draft or its documents.
    assert error(get(client, f"/tenders/{tender.pk}", auth), 404)["field"] == "tender_id"
    assert error(get(client, f"/tenders/{tender.pk}/documents/1", auth), 403)["rule"] == (
        "obtained_documents"
    )
    assert counts() == before
    tender.refresh_from_db()
    assert tender.status == State.DRAFT
    assert tender.title == tender_fields()["title"]


def test_unauthenticated_writes_are_refused(client, clock):
    tender, _owner = draft_tender()
    before = counts()
    assert error(post(client, "/projects", project_body()), 401)["rule"] == "authentication"
    assert error(post(client, f"/tenders/{tender.pk}/publish"), 401)["code"] == "unauthenticated"
    assert error(get(client, f"/tenders/{tender.pk}/documents"), 401)["rule"] == "authentication"
    assert counts() == before


def test_session_calls_need_the_csrf_token(clock):
    _org, tenderer = market_entity(OrgType.TENDERER)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(tenderer)
    before = counts()
    assert post(strict, "/projects", project_body()).status_code == 403
    assert counts() == before
    relaxed = Client()
    relaxed.force_login(tenderer)
    assert post(relaxed, "/projects", project_body()).status_code == 201


# --- malformed payloads ------------------------------------------------------------------------


def _without(key: str) -> Any:
    return lambda body: {k: v for k, v in body.items() if k != key}


def _section(**changes: Any) -> Any:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "sections": [{**body["sections"][0], **changes}, *body["sections"][1:]]}

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_without("title"), "title"),
        (lambda b: {**b, "kind": "bridge"}, "kind"),
        (lambda b: {**b, "bid_deadline": "2026-03-27T09:30:00"}, "bid_deadline"),
        (lambda b: {**b, "doc_issue_start": "next monday"}, "doc_issue_start"),
        (lambda b: {**b, "sections": []}, "sections"),
        (lambda b: {**b, "status": "published"}, "status"),
        (lambda b: {**b, "separated_award": "perhaps"}, "separated_award"),
        (lambda b: {**b, "invited": "91330100MA0000001X"}, "invited"),
        (_section(deposit=400000), "sections.0.deposit"),
        (_section(deposit=400000.5), "sections.0.deposit"),
        (_section(estimated_price="两千万"), "sections.0.estimated_price"),
        (_section(name="x" * 201), "sections.0.name"),
    ],
)
def test_malformed_tender_payloads_name_the_field(client, clock, change, field):
    _org, tenderer = market_entity(OrgType.TENDERER)
    auth = bearer(tenderer)
    project_id = post(client, "/projects", project_body(), auth).json()["id"]
    before = counts()
    refused = error(
        post(client, f"/projects/{project_id}/tenders", change(tender_body()), auth), 422
    )
    assert refused["rule"] == "schema"
    assert refused["field"] == field
    assert counts() == before


def test_malformed_project_and_patch_payloads(client, clock):
    tender, tenderer = draft_tender()
    auth = bearer(tenderer)
    before = counts()
    bad_money = post(client, "/projects", project_body(estimated_investment=5e7), auth)
    assert error(bad_money, 422)["field"] == "estimated_investment"
    bad_choice = post(client, "/projects", project_body(industry="mining"), auth)
    assert error(bad_choice, 422)["field"] == "industry"
    bad_code = post(client, "/projects", project_body(code="2026-1"), auth)
    assert error(bad_code, 422)["rule"] == "project_code_format"
    bad_date = patch(client, f"/tenders/{tender.pk}", {"bid_deadline": "tomorrow"}, auth)
    assert error(bad_date, 422)["field"] == "bid_deadline"
    bad_path = get(client, "/tenders/first", auth)
    assert error(bad_path, 422)["field"] == "tender_id"
    assert counts() == before


# --- statutory refusals ------------------------------------------------------------------------


def test_deposit_over_the_cap_names_rule_and_article(client, clock):
    _org, tenderer = market_entity(OrgType.TENDERER)
    auth = bearer(tenderer)
    project_id = post(client, "/projects", project_body(), auth).json()["id"]
    url = f"/projects/{project_id}/tenders"
    before = counts()

    # 2% of the estimated price (Reg art. 26).
    over_ratio = error(post(client, url, _section(deposit="400000.01")(tender_body()), auth), 422)
    assert over_ratio["field"] == "sections.1.deposit"
    assert over_ratio["rule"] == "bid_deposit_max_ratio"
    assert over_ratio["article"] == "Reg art. 26"

    # Works: at most 800,000 yuan whatever 2% would be.
    big = _section(estimated_price="50000000", ceiling_price=None, deposit="900000")
    over_cap = error(post(client, url, big(tender_body()), auth), 422)
    assert over_cap["field"] == "sections.1.deposit"
    assert over_cap["rule"] == "bid_deposit_cap_works"
    assert "Works-30 art. 37" in over_cap["article"]
    assert counts() == before

    # Changing a draft is all or nothing: the title is not saved when the sections are refused.
    tender_id = post(client, url, tender_body(), auth).json()["id"]
    before = counts()
    changed = patch(
        client,
        f"/tenders/{tender_id}",
        {"title": "新标题", "sections": _section(deposit="400000.01")(tender_body())["sections"]},
        auth,
    )
    assert error(changed, 422)["rule"] == "bid_deposit_max_ratio"
    assert counts() == before
    tender = Tender.objects.get(pk=tender_id)
    assert tender.title == tender_fields()["title"]
    assert [s.deposit for s in tender.sections.all()] == [400000, 160000]


def test_dates_in_the_wrong_order(client, clock):
    _org, tenderer = market_entity(OrgType.TENDERER)
    auth = bearer(tenderer)
    project_id = post(client, "/projects", project_body(), auth).json()["id"]
    url = f"/projects/{project_id}/tenders"
    times = schedule()
    before = counts()
    ends_first = tender_body(doc_issue_end=times["doc_issue_start"] - dt.timedelta(hours=1))
    refused = error(post(client, url, ends_first, auth), 422)
    assert (refused["field"], refused["rule"]) == ("doc_issue_end", "schedule_order")
    questions_late = tender_body(question_deadline=times["bid_deadline"] + dt.timedelta(hours=1))
    refused = error(post(client, url, questions_late, auth), 422)
    assert (refused["field"], refused["rule"]) == ("question_deadline", "schedule_order")
    assert counts() == before


def test_a_deadline_too_early_is_refused_with_the_earliest_lawful_one(client, clock):
    _org, tenderer = market_entity(OrgType.TENDERER)
    auth = bearer(tenderer)
    project_id = post(client, "/projects", project_body(), auth).json()["id"]
    early = schedule(days=10)
    body = tender_body(
        **{**early, "question_deadline": early["bid_deadline"] - dt.timedelta(days=2)}
    )
    created = post(client, f"/projects/{project_id}/tenders", body, auth)
    assert created.status_code == 201, created.content  # the periods are checked at publication
    tender_id = created.json()["id"]
    assert upload(client, tender_id, pdf(), auth).status_code == 201

    checks = get(client, f"/tenders/{tender_id}/checks", auth).json()
    assert [p["rule"] for p in checks["problems"]] == ["bid_period_min"]
    earliest = checks["problems"][0]["earliest"]
    assert when(earliest) - when(early["doc_issue_start"].isoformat()) >= dt.timedelta(days=19)

    before = counts()
    refused = error(post(client, f"/tenders/{tender_id}/publish", {}, auth), 422)
    assert refused["field"] == "bid_deadline"
    assert refused["rule"] == "bid_period_min"
    assert refused["article"] == "Law art. 24"
    assert when(refused["at"]) == when(earliest)
    assert counts() == before
    assert Tender.objects.get(pk=tender_id).status == State.DRAFT

    # Moving the deadline to the earliest lawful one makes it publishable.
    moved = patch(client, f"/tenders/{tender_id}", {"bid_deadline": refused["at"]}, auth)
    assert moved.status_code == 200, moved.content
    assert get(client, f"/tenders/{tender_id}/checks", auth).json()["publishable"] is True
    assert post(client, f"/tenders/{tender_id}/publish", {}, auth).status_code == 201


def test_an_invitation_tender_needs_three_invited(client, clock):
    _org, tenderer = market_entity(OrgType.TENDERER)
    auth = bearer(tenderer)
    invited = [market_entity()[0].credit_code for _ in range(3)]
    project_id = post(client, "/projects", project_body(), auth).json()["id"]
    created = post(
        client,
        f"/projects/{project_id}/tenders",
        tender_body(method="invited", invited=invited[:2]),
        auth,
    )
    assert created.status_code == 201, created.content
    tender_id = created.json()["id"]
    assert upload(client, tender_id, pdf(), auth).status_code == 201
    rules = [
        p["rule"] for p in get(client, f"/tenders/{tender_id}/checks", auth).json()["problems"]
    ]
    assert rules == ["invited_min"]

    before = counts()
    refused = error(post(client, f"/tenders/{tender_id}/publish", {}, auth), 422)
    assert (refused["field"], refused["rule"], refused["article"]) == (
        "invited",
        "invited_min",
        "Law art. 17",
    )
    assert counts() == before

    assert patch(client, f"/tenders/{tender_id}", {"invited": invited}, auth).status_code == 200
    notice = post(client, f"/tenders/{tender_id}/publish", {}, auth)
    assert notice.status_code == 201, notice.content
    assert notice.json()["kind"] == Notice.Kind.INVITATION
    # The invited are potential bidders: secret to everyone but the managers.
    assert get(client, f"/tenders/{tender_id}").json()["invited"] is None
    assert get(client, f"/tenders/{tender_id}", auth).json()["invited"] == sorted(invited)
    assert invited[0] not in get(client, f"/tenders/{tender_id}").content.decode()


def test_document_type_and_size(client, clock, settings):
    tender, tenderer = draft_tender()
    auth = bearer(tenderer)
    before = counts()
    wrong_extension = error(upload(client, tender.pk, pdf("招标文件.exe"), auth), 422)
    assert (wrong_extension["field"], wrong_extension["rule"]) == ("file", "document_type")
    wrong_content = error(upload(client, tender.pk, pdf(content=b"MZ\x90\x00" * 100), auth), 422)
    assert wrong_content["rule"] == "document_type"
    empty = error(upload(client, tender.pk, pdf(content=b""), auth), 422)
    assert empty["rule"] == "document_size"
    settings.OPENBID_MAX_DOCUMENT_BYTES = 100
    too_large = error(upload(client, tender.pk, pdf(), auth), 422)
    assert (too_large["field"], too_large["rule"]) == ("file", "document_size")
    assert counts() == before
    rules = [
        p["rule"] for p in get(client, f"/tenders/{tender.pk}/checks", auth).json()["problems"]
    ]
    assert rules == ["documents_required"]


def test_actions_in_the_wrong_state(client, clock):
    tender, tenderer = draft_tender()
    auth = bearer(tenderer)
    assert upload(client, tender.pk, pdf(), auth).status_code == 201
    assert post(client, f"/tenders/{tender.pk}/publish", {}, auth).status_code == 201
    before = counts()
    twice = error(post(client, f"/tenders/{tender.pk}/publish", {}, auth), 409)
    assert twice["rule"] == "tender_lifecycle"
    edited = error(patch(client, f"/tenders/{tender.pk}", {"title": "新标题"}, auth), 409)
    assert edited["rule"] == "tender_lifecycle"
    assert get(client, f"/tenders/{tender.pk}/checks", auth).json()["publishable"] is False
    assert counts() == before
    assert Notice.objects.filter(tender=tender).count() == 1

    # Terminating publishes the reason; a second termination is refused.
    cancelled = post(client, f"/tenders/{tender.pk}/cancel", {"reason": "项目取消"}, auth)
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == State.CANCELLED
    public = get(client, f"/tenders/{tender.pk}").json()
    assert [n["kind"] for n in public["notices"]] == ["tender", "cancellation"]
    before = counts()
    again = post(client, f"/tenders/{tender.pk}/cancel", {"reason": "再次"}, auth)
    assert error(again, 409)["rule"] == "tender_lifecycle"
    assert counts() == before


def test_a_draft_cancelled_before_publication_stays_private(client, clock):
    tender, tenderer = draft_tender()
    auth = bearer(tenderer)
    assert (
        post(client, f"/tenders/{tender.pk}/cancel", {"reason": "立项变更"}, auth).status_code
        == 200
    )
    assert get(client, f"/tenders/{tender.pk}").status_code == 404
    assert get(client, "/tenders").json()["count"] == 0
    assert get(client, f"/tenders/{tender.pk}/questions").status_code == 404


def test_bidders_questions_and_documents_need_obtaining(client, clock):
    tender, tenderer = draft_tender()
    auth = bearer(tenderer)
    # Managers read even a draft's documents.
    assert upload(client, tender.pk, pdf(), auth).status_code == 201
    assert get(client, f"/tenders/{tender.pk}/documents/1", auth).status_code == 200
    _org, bidder = market_entity()
    bidder_auth = bearer(bidder)
    # A draft is not there to obtain.
    assert error(post(client, f"/tenders/{tender.pk}/obtain", {}, bidder_auth), 404)
    assert post(client, f"/tenders/{tender.pk}/publish", {}, auth).status_code == 201

    before = counts()
    too_soon = error(post(client, f"/tenders/{tender.pk}/obtain", {}, bidder_auth), 409)
    assert too_soon["rule"] == "doc_issue_period"
    assert when(too_soon["at"]) == tender.doc_issue_start
    asked = post(client, f"/tenders/{tender.pk}/questions", {"text": "?"}, bidder_auth)
    assert error(asked, 403)["rule"] == "obtained_documents"
    assert error(get(client, f"/tenders/{tender.pk}/documents/1", bidder_auth), 403)["rule"] == (
        "obtained_documents"
    )
    assert error(get(client, f"/tenders/{tender.pk}/documents/9", auth), 404)["field"] == "version"
    # Tenderers do not obtain documents as bidders.
    assert error(post(client, f"/tenders/{tender.pk}/obtain", {}, auth), 403)["rule"] == (
        "role_required"
    )
    assert counts() == before


# --- who obtained the documents stays secret until the opening -----------------------------------


def test_obtainers_are_hidden_before_the_opening_even_from_managers_and_the_centre(client, clock):
    tenderer_org, tenderer = market_entity(OrgType.TENDERER)
    _agency_org, agency = market_entity(OrgType.AGENCY)
    _centre, centre_staff = centre_with_staff()
    agency_auth = bearer(agency)
    registered = post(
        client, "/projects", project_body(tenderer=tenderer_org.credit_code), agency_auth
    )
    assert registered.status_code == 201, registered.content
    tender_id, _notice = published_via_api(client, agency_auth, registered.json()["id"])
    bidders = [market_entity() for _ in range(2)]
    _unrelated_org, onlooker = market_entity()
    callers = {
        "tenderer": bearer(tenderer),
        "agency": agency_auth,
        "centre": bearer(centre_staff),
        "bidder": bearer(bidders[0][1]),
        "onlooker": bearer(onlooker),
    }

    def refusals() -> dict[str, bytes]:
        out = {}
        for who, auth in callers.items():
            response = get(client, f"/tenders/{tender_id}/obtainers", auth)
            body = error(response, 403)
            assert body["rule"] == "obtainers_secret", who
            assert body["article"] == "Law art. 22", who
            out[who] = response.content
        return out

    def public_views() -> list[bytes]:
        return [
            get(client, f"/tenders/{tender_id}", callers["agency"]).content,
            get(client, f"/tenders/{tender_id}", callers["onlooker"]).content,
            get(client, "/tenders").content,
            get(client, f"/projects/{registered.json()['id']}", callers["agency"]).content,
        ]

    none_yet, views_before = refusals(), public_views()
    clock.advance(hours=2)
    for _org, user in bidders:
        assert post(client, f"/tenders/{tender_id}/obtain", {}, bearer(user)).status_code == 200
    # The same answers, byte for byte, whether nobody or two have obtained the documents.
    assert refusals() == none_yet
    assert public_views() == views_before
    assert error(get(client, f"/tenders/{tender_id}/obtainers"), 401)

    # After the deadline, before any opening: still secret.
    clock.set(Tender.objects.get(pk=tender_id).bid_deadline + dt.timedelta(minutes=1))
    services.close_bidding_due()
    assert refusals() == none_yet

    # A tender that fails before any opening keeps them secret too (a re-tender follows).
    failed = post(client, f"/tenders/{tender_id}/fail", {"reason": "投标人不足3家"}, agency_auth)
    assert failed.status_code == 200, failed.content
    assert failed.json()["status"] == State.FAILED
    assert refusals() == none_yet
    retendered = post(client, f"/tenders/{tender_id}/retender", {}, agency_auth)
    assert retendered.status_code == 201, retendered.content
    assert retendered.json()["retender_of"] == tender_id
    assert retendered.json()["status"] == State.DRAFT


def test_obtainers_are_listed_after_the_opening_to_managers_and_the_centre(client, clock):
    _tenderer_org, tenderer = market_entity(OrgType.TENDERER)
    _centre, centre_staff = centre_with_staff()
    auth = bearer(tenderer)
    project_id = post(client, "/projects", project_body(), auth).json()["id"]
    tender_id, _notice = published_via_api(client, auth, project_id)
    clock.advance(hours=2)
    bidders = [market_entity() for _ in range(2)]
    for _org, user in bidders:
        assert post(client, f"/tenders/{tender_id}/obtain", {}, bearer(user)).status_code == 200
    # The opening belongs to the bidding context; here it is simulated.
    Tender.objects.filter(pk=tender_id).update(status=State.OPENED)

    listed = get(client, f"/tenders/{tender_id}/obtainers", auth)
    assert listed.status_code == 200, listed.content
    assert {o["organisation"] for o in listed.json()} == {org.credit_code for org, _ in bidders}
    assert get(client, f"/tenders/{tender_id}/obtainers", bearer(centre_staff)).json() == (
        listed.json()
    )
    refused = get(client, f"/tenders/{tender_id}/obtainers", bearer(bidders[0][1]))
    assert error(refused, 403)["rule"] == "tender_manager"


def test_the_public_event_record_does_not_count_obtainers_before_the_opening(client, clock):
    _tenderer_org, tenderer = market_entity(OrgType.TENDERER)
    auth = bearer(tenderer)
    project_id = post(client, "/projects", project_body(), auth).json()["id"]
    tender_id, _notice = published_via_api(client, auth, project_id)

    def timeline() -> list[str]:
        return [e["type"] for e in get(client, f"/events?subject=tender:{tender_id}").json()]

    before = timeline()
    clock.advance(hours=2)
    for _ in range(2):
        _org, bidder = market_entity()
        assert post(client, f"/tenders/{tender_id}/obtain", {}, bearer(bidder)).status_code == 200
    assert timeline() == before
