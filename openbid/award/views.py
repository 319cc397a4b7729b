"""Award pages: a tender's candidates, decision, notices and contracts; a contract's page; the
notices of a bidder; published contracts; written reports and late flags; contract templates.

Thin: every change goes through ``openbid.award.services`` (signatures through
``openbid.crypto.document_signatures``). A refusal is shown as a message naming the reason and
nothing is written. What a page shows depends on who asks: everyone sees what is published;
the tender's managers, the parties, centre staff and regulators see the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from openbid.accounts.permissions import has_role, memberships
from openbid.accounts.roles import Role
from openbid.award import services, signing
from openbid.award.models import (
    AwardNotice,
    Contract,
    ContractTemplate,
    Decision,
    PerformanceEvaluation,
    WrittenReport,
)
from openbid.core import clock
from openbid.core.errors import DomainError, NotAllowed
from openbid.crypto import document_signatures
from openbid.crypto.document_signatures import verifies
from openbid.tendering.models import Tender
from openbid.tendering.services import require_manager


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _is_manager(request: HttpRequest, tender: Tender) -> bool:
    try:
        require_manager(request.user, tender.project, "")
    except NotAllowed:
        return False
    return True


def _attempt(request: HttpRequest, action: Callable[[], Any], done: str) -> bool:
    """Run a service; show its refusal (nothing was written) or ``done``."""
    try:
        action()
    except DomainError as error:
        where = f" ({error.field})" if error.field else ""
        messages.error(request, f"{error}{where}")
        return False
    messages.success(request, done)
    return True


def _tender(pk: int) -> Tender:
    return get_object_or_404(
        Tender.objects.select_related("project__tenderer", "project__agency"),
        pk=pk,
        published_at__isnull=False,
    )


def _signatures(kind: str, document_id: int, sha256: str | None = None) -> list[dict[str, Any]]:
    return [
        {"row": row, "signed_at": _when(row.signed_at), "verifies": verifies(row)}
        for row in signing.signatures_of(kind, document_id, sha256)
    ]


@require_safe
def tender_award(request: HttpRequest, pk: int) -> HttpResponse:
    """A tender's candidate publicity, decision, result and contracts (public); the tenderer's and
    agency's forms for each step."""
    tender = _tender(pk)
    manager = _is_manager(request, tender)
    tenderer = services._is_tenderer(request.user, tender)
    sections = []
    for publicity in services.publicities_of(tender):
        decision = Decision.objects.filter(publicity=publicity).first()
        notice = services.award_notice_of(decision) if decision else None
        contract = Contract.objects.filter(decision=decision).first() if decision else None
        sections.append(
            {
                "publicity": publicity,
                "candidates": list(publicity.candidates.select_related("bidder")),
                "in_publicity": services.publicity_open(publicity),
                "published_at": _when(publicity.published_at),
                "ends_at": _when(publicity.ends_at),
                "decision": decision,
                "votes": list(decision.votes.select_related("candidate__bidder"))
                if decision
                else [],
                "notice": notice,
                "notices": list(decision.notices.select_related("recipient")) if decision else [],
                "contract": contract,
                "reasons": services.PASS_OVER_REASONS,
            }
        )
    report = WrittenReport.objects.filter(tender=tender).first()
    see_report = manager or has_role(request.user, Role.CENTRE_STAFF, Role.REGULATOR)
    return render(
        request,
        "award/tender.html",
        {
            "tender": tender,
            "project": tender.project,
            "sections": sections,
            "blocked": services.award_blocked(tender),
            "is_manager": manager,
            "is_tenderer": tenderer,
            "may_suspend": manager or has_role(request.user, Role.CENTRE_STAFF, Role.REGULATOR),
            "report": report if see_report else None,
            "report_due": _when(report.due_at) if report else "",
            "templates": ContractTemplate.objects.filter(active=True),
            "notice_kind": signing.NOTICE_KIND,
            "platform_url": request.build_absolute_uri("/").rstrip("/"),
            "now": _when(clock.now()),
        },
    )


@login_required
@require_POST
def suspend(request: HttpRequest, pk: int) -> HttpResponse:
    tender = _tender(pk)
    if request.POST.get("resume"):
        _attempt(
            request,
            lambda: services.resume_publicity(
                tender, by=request.user, note=request.POST.get("reason", "")
            ),
            _("The award goes on."),
        )
    else:
        _attempt(
            request,
            lambda: services.suspend_publicity(
                tender, request.POST.get("reason", ""), by=request.user
            ),
            _("The award is suspended."),
        )
    return redirect("award:tender", pk=pk)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    publicity = get_object_or_404(services.Publicity, pk=pk)
    post = request.POST
    passed_over = [
        {
            "candidate": c.pk,
            "reason": post.get(f"pass_{c.pk}"),
            "explanation": post.get(f"explanation_{c.pk}", ""),
        }
        for c in publicity.candidates.all()
        if post.get(f"pass_{c.pk}")
    ]
    votes = []
    for line in (post.get("votes") or "").splitlines():
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if parts and parts[0]:
            votes.append(
                {
                    "member": parts[0],
                    "candidate": parts[1] if len(parts) > 1 else "",
                    "reason": ",".join(parts[2:]),
                }
            )
    _attempt(
        request,
        lambda: services.decide_award(
            request.user,
            publicity,
            passed_over=passed_over,
            votes=votes,
            winner=post.get("winner") or None,
            reasons=post.get("reasons", ""),
        ),
        _("The award is decided and published."),
    )
    return redirect("award:tender", pk=publicity.tender_id)


@login_required
@require_POST
def prepare_notices(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(Decision, pk=pk)
    _attempt(
        request,
        lambda: services.prepare_notices(request.user, decision),
        _("The notices are prepared: sign the award notice to issue them."),
    )
    return redirect("award:tender", pk=decision.publicity.tender_id)


def _sign(request: HttpRequest, kind: str, document_id: int, done: str) -> bool:
    return _attempt(
        request,
        lambda: document_signatures.sign(
            request.user,
            kind,
            document_id,
            sha256=request.POST.get("sha256", ""),
            signature=request.POST.get("signature", ""),
            public_key=request.POST.get("public_key", ""),
        ),
        done,
    )


@require_safe
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    """A notice, for its recipient, the tender's managers, centre staff and regulators."""
    found = get_object_or_404(
        AwardNotice.objects.select_related("recipient", "decision__publicity__tender__project"),
        pk=pk,
    )
    if not services.may_see_notice(request.user, found):
        raise Http404
    tender = found.decision.publicity.tender
    return render(
        request,
        "award/notice.html",
        {
            "notice": found,
            "tender": tender,
            "issued_at": _when(found.issued_at),
            "may_sign": found.kind == AwardNotice.Kind.AWARD
            and found.issued_at is None
            and services._is_tenderer(request.user, tender),
            "signatures": _signatures(signing.NOTICE_KIND, found.pk),
            "kind": signing.NOTICE_KIND,
            "platform_url": request.build_absolute_uri("/").rstrip("/"),
        },
    )


@login_required
@require_POST
def sign_notice(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(AwardNotice, pk=pk)
    _sign(request, signing.NOTICE_KIND, found.pk, _("The award notice is signed and issued."))
    return redirect("award:notice", pk=pk)


@login_required
@require_POST
def file_report(request: HttpRequest, pk: int) -> HttpResponse:
    tender = _tender(pk)
    _attempt(
        request,
        lambda: services.file_written_report(request.user, tender),
        _("The written report is filed with the regulator."),
    )
    return redirect("award:tender", pk=pk)


@login_required
@require_POST
def draft_contract(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(Decision, pk=pk)
    result: dict[str, Contract] = {}

    def act() -> None:
        result["contract"] = services.draft_contract(
            request.user,
            decision,
            template=int(request.POST.get("template") or 0),
            duration_days=request.POST.get("duration_days"),
            key_terms=request.POST.get("key_terms", ""),
        )

    if _attempt(request, act, _("The contract is drafted: both parties sign it now.")):
        return redirect("award:contract", pk=result["contract"].pk)
    return redirect("award:tender", pk=decision.publicity.tender_id)


def _contract(pk: int) -> Contract:
    return get_object_or_404(
        Contract.objects.select_related(
            "decision__publicity__tender__project", "tenderer", "winner", "decision__winner"
        ),
        pk=pk,
    )


@require_safe
def contract(request: HttpRequest, pk: int) -> HttpResponse:
    """A contract: its published versions for everyone; drafts, signing, changes, performance and
    payments for its parties, the tender's managers, centre staff and regulators."""
    found = _contract(pk)
    full = services.may_see_contract(request.user, found)
    if not full and found.signed_at is None:
        raise Http404
    versions = list(found.versions.order_by("-number"))
    if not full:
        versions = [v for v in versions if v.published_at is not None]
    current = services.current_version(found)
    party = services.party_of(request.user, found)
    tender = found.decision.publicity.tender
    signed_by = services.signing_parties(current)
    payments, total = services.payments_of(found) if full else ([], None)
    return render(
        request,
        "award/contract.html",
        {
            "contract": found,
            "tender": tender,
            "full": full,
            "versions": versions,
            "current": current,
            "party": party,
            "may_sign": party is not None and party.pk not in signed_by,
            "signed_by": signed_by,
            "signatures": _signatures(signing.CONTRACT_KIND, found.pk, current.sha256),
            "is_manager": _is_manager(request, tender),
            "is_tenderer": services._is_tenderer(request.user, tender),
            "is_staff": has_role(request.user, Role.CENTRE_STAFF, Role.REGULATOR),
            "due_at": _when(found.due_at),
            "overdue": found.signed_at is None and clock.now() >= found.due_at,
            "evaluations": list(found.evaluations.select_related("credit_record")),
            "ratings": PerformanceEvaluation.Rating.choices,
            "payments": payments,
            "total": total,
            "kind": signing.CONTRACT_KIND,
            "platform_url": request.build_absolute_uri("/").rstrip("/"),
        },
    )


@login_required
@require_POST
def contract_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    found = _contract(pk)
    post = request.POST
    actions: dict[str, tuple[Callable[[], Any], str]] = {
        "sign": (
            lambda: document_signatures.sign(
                request.user,
                signing.CONTRACT_KIND,
                found.pk,
                sha256=post.get("sha256", ""),
                signature=post.get("signature", ""),
                public_key=post.get("public_key", ""),
            ),
            _("Your signature is recorded."),
        ),
        "change": (
            lambda: services.change_contract(
                request.user,
                found,
                reason=post.get("reason", ""),
                price=post.get("price") or None,
                duration_days=post.get("duration_days") or None,
                key_terms=post.get("key_terms") or None,
            ),
            _("The change is a new version: both parties sign it again."),
        ),
        "late": (
            lambda: services.record_late_reason(request.user, found, reason=post.get("reason", "")),
            _("The reason is recorded; the contract may be signed and is flagged late."),
        ),
        "performance": (
            lambda: services.evaluate_performance(
                request.user,
                found,
                milestone=post.get("milestone", ""),
                rating=post.get("rating", ""),
                comments=post.get("comments", ""),
                final=bool(post.get("final")),
            ),
            _("The performance evaluation is recorded."),
        ),
        "credit": (
            lambda: services.forward_to_credit(
                request.user,
                get_object_or_404(PerformanceEvaluation, pk=post.get("evaluation"), contract=found),
            ),
            _("The evaluation is recorded in the credit context."),
        ),
        "payment": (
            lambda: services.record_payment(
                request.user,
                found,
                amount=post.get("amount", ""),
                paid_on=post.get("paid_on", ""),
                milestone=post.get("milestone", ""),
                reference=post.get("reference", ""),
            ),
            _("The payment is recorded."),
        ),
    }
    if action not in actions:
        raise Http404
    run, done = actions[action]
    _attempt(request, run, done)
    return redirect("award:contract", pk=pk)


@require_safe
def contracts(request: HttpRequest) -> HttpResponse:
    """Published contracts (合同订立公开): every signed contract, public."""
    rows = (
        Contract.objects.filter(signed_at__isnull=False)
        .select_related("decision__publicity__tender", "tenderer", "winner")
        .order_by("-signed_at")
    )
    return render(request, "award/contracts.html", {"contracts": rows})


@login_required
@require_safe
def my_notices(request: HttpRequest) -> HttpResponse:
    """A bidder's award and result notices, and the contracts it is a party to."""
    orgs = [m.organisation for m in memberships(request.user, Role.BIDDER_STAFF)]
    return render(
        request,
        "award/my_notices.html",
        {
            "notices": AwardNotice.objects.filter(recipient__in=orgs, issued_at__isnull=False)
            .select_related("decision__publicity__tender", "recipient")
            .order_by("-issued_at"),
            "contracts": Contract.objects.filter(winner__in=orgs).select_related(
                "decision__publicity__tender"
            ),
        },
    )


@login_required
@require_safe
def reports(request: HttpRequest) -> HttpResponse:
    """Written reports to the regulator and contracts, with due times and late flags (centre
    staff, regulators, auditors)."""
    if not has_role(request.user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR):
        raise Http404
    now = clock.now()
    return render(
        request,
        "award/reports.html",
        {
            "reports": [
                {
                    "row": r,
                    "due_at": _when(r.due_at),
                    "filed_at": _when(r.filed_at),
                    "overdue": r.filed_at is None and now >= r.due_at,
                }
                for r in WrittenReport.objects.select_related("tender").order_by("-due_at")
            ],
            "contracts": [
                {
                    "row": c,
                    "due_at": _when(c.due_at),
                    "signed_at": _when(c.signed_at),
                    "overdue": c.signed_at is None and now >= c.due_at,
                }
                for c in Contract.objects.select_related("decision__publicity__tender", "winner")
            ],
        },
    )


@login_required
@require_safe
def report(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(WrittenReport.objects.select_related("tender__project"), tender_id=pk)
    if not (
        has_role(request.user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR)
        or _is_manager(request, found.tender)
    ):
        raise Http404
    return render(
        request,
        "award/report.html",
        {"report": found, "due_at": _when(found.due_at), "filed_at": _when(found.filed_at)},
    )


@login_required
def templates(request: HttpRequest) -> HttpResponse:
    """Contract templates (centre staff add and retire them; tenderers read them)."""
    staff = has_role(request.user, Role.CENTRE_STAFF)
    if request.method == "POST":
        if request.POST.get("retire"):
            template = get_object_or_404(ContractTemplate, pk=request.POST["retire"])
            _attempt(
                request,
                lambda: services.retire_template(request.user, template),
                _("The template is out of use."),
            )
        else:
            _attempt(
                request,
                lambda: services.create_template(
                    request.user,
                    name=request.POST.get("name", ""),
                    body=request.POST.get("body", ""),
                    kind=request.POST.get("kind", ""),
                ),
                _("The template is added."),
            )
        return redirect("award:templates")
    return render(
        request,
        "award/templates.html",
        {
            "templates": ContractTemplate.objects.all(),
            "staff": staff,
            "placeholders": [
                ("${" + k + "}", v) for k, v in services.documents.PLACEHOLDERS.items()
            ],
            "kinds": Tender.Kind.choices,
        },
    )
