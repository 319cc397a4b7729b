"""Pages of the evaluation session: the session page (members: sign in, discussion, sheets to
sign, the report to sign; the chair: results and report; managers and centre staff: start,
progress, venues, attendance; everyone following: the report once all have signed), the blind
review (a member's own order, codes only, the technical score form), the bidders' clarification
requests. Thin: every change goes through ``openbid.evaluation.session``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from openbid.accounts.permissions import has_role
from openbid.accounts.roles import Role
from openbid.core.errors import DomainError
from openbid.crypto import document_signatures
from openbid.evaluation import committee as committees
from openbid.evaluation import session as evaluation
from openbid.evaluation.models import ClarificationRequest, EvaluationSession, ExpertFee
from openbid.opening.models import OpenedBid
from openbid.tendering.models import Tender


def _tender(pk: int) -> Tender:
    return get_object_or_404(Tender.objects.select_related("project"), pk=pk)


def _sign_box(kind: str, document_id: int, sha256: str) -> dict[str, Any]:
    return {"kind": kind, "id": document_id, "sha256": sha256}


@login_required
def session_page(request: HttpRequest, pk: int) -> HttpResponse:
    tender = _tender(pk)
    session = evaluation.session_of(tender)
    user = request.user
    context: dict[str, Any] = {"tender": tender, "session": session}
    if session is None:
        committee = committees.committee_of(tender)
        context["can_start"] = (
            committee is not None
            and committee.status == committee.Status.FORMED
            and committees.may_manage(user, tender)
        )
        if not context["can_start"] and not committees.may_manage(user, tender):
            raise Http404
        return render(request, "evaluation/session.html", context)
    if not evaluation.may_follow(user, session):
        raise Http404
    member = committees.member_of(user, session.committee)
    staff = has_role(user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR)
    names = committees.may_see_members(user, session.committee)
    labels = evaluation.labels(session)
    inside = member is not None or staff
    completed = session.status == EvaluationSession.Status.COMPLETED
    report = getattr(session, "report", None)
    context.update(
        member=member,
        inside=inside,
        staff=has_role(user, Role.CENTRE_STAFF),
        venues=list(session.venues.all()),
        attendance=[
            {
                "label": labels.get(a.member_id),
                "name": a.member.display_name if names else "",
                "venue": a.venue,
                "at": a.signed_in_at,
            }
            for a in session.attendance.filter(signed_in_at__isnull=False).select_related(
                "venue", "member__expert", "member__user"
            )
        ],
        progress=[
            {
                "label": labels.get(s.member_id),
                "part": s.get_part_display(),
                "submitted": s.submitted_at,
                "signed": s.signed_at,
            }
            for s in session.sheets.order_by("part", "member_id")
        ],
        bids=evaluation.bids(session) if inside or completed else [],
        clarifications=session.clarifications.select_related("bid__bid__organisation")
        if inside or completed
        else [],
        messages_=[
            {"label": labels.get(m.member_id), "text": m.text, "at": m.posted_at}
            for m in session.messages.order_by("posted_at")
        ]
        if inside
        else [],
        labels=labels,
        result=session.result if (inside or completed) else None,
        report=report if report is not None and (inside or completed) else None,
        may_download=evaluation.may_download_report(user, session),
        fees=session.fees.all() if has_role(user, Role.CENTRE_STAFF) else [],
    )
    if member is not None:
        attendance = session.attendance.filter(member=member).order_by("-pk").first()
        context["attendance_mine"] = attendance
        context["is_chair"] = session.committee.chair_id == member.pk
        if attendance is not None and attendance.signed_in_at is None:
            context["sign_in"] = _sign_box(
                evaluation.SIGN_IN_KIND, attendance.pk, attendance.sha256
            )
        sheets = []
        for sheet in session.sheets.filter(member=member):
            box = None
            if sheet.submitted_at and not sheet.signed_at:
                box = _sign_box(
                    evaluation.SCORES_KIND,
                    sheet.pk,
                    evaluation._digest(evaluation.sheet_document(session, sheet)),
                )
            sheets.append({"sheet": sheet, "sign": box})
        context["sheets"] = sheets
        if report is not None and session.status == EvaluationSession.Status.REPORTING:
            signed = user.pk in evaluation.report_signers(report)
            context["report_sign"] = (
                None if signed else _sign_box(evaluation.REPORT_KIND, report.pk, report.sha256)
            )
        if session.status == EvaluationSession.Status.COMMERCIAL:
            commercial = session.sheets.filter(member=member, part="commercial").first()
            have = (
                {(s.bid_id, s.criterion): s for s in commercial.scores.all()} if commercial else {}
            )
            context["commercial_rows"] = [
                {
                    "bid": b,
                    "cells": [
                        {
                            "criterion": c,
                            "name": f"score__{b.pk}__{c['code']}",
                            "reason_name": f"reason__{b.pk}__{c['code']}",
                            "score": have.get((b.pk, c["code"])),
                        }
                        for c in evaluation.criteria(session, "commercial")
                    ],
                }
                for b in evaluation.bids(session)
            ]
    return render(request, "evaluation/session.html", context)


def _rows_from_post(request: HttpRequest) -> list[dict[str, Any]]:
    rows = []
    for key in request.POST:
        value = str(request.POST.get(key, ""))
        if not key.startswith("score__") or value.strip() == "":
            continue
        _prefix, bid, code = key.split("__", 2)
        rows.append(
            {
                "bid": bid,
                "criterion": code,
                "points": value.strip(),
                "reason": request.POST.get(f"reason__{bid}__{code}", ""),
            }
        )
    return rows


@login_required
@require_POST
def session_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    tender = _tender(pk)
    session = evaluation.session_of(tender)
    post = request.POST
    target = "evaluation:session"
    try:
        if action == "start":
            venues = [
                {
                    "kind": "main",
                    "name": post.get("main_name", ""),
                    "region_code": post.get("main_region", ""),
                }
            ]
            if post.get("secondary_name"):
                venues.append(
                    {
                        "kind": "secondary",
                        "name": post.get("secondary_name", ""),
                        "region_code": post.get("secondary_region", ""),
                    }
                )
            evaluation.start_session(request.user, tender, venues=venues)
            messages.success(request, _("The evaluation has started."))
        elif session is None:
            raise Http404
        elif action == "check_in":
            venue = session.venues.filter(pk=post.get("venue") or 0).first()
            if venue is None:
                messages.error(request, _("Choose one of this evaluation's venues."))
            else:
                evaluation.check_in(request.user, session, venue=venue)
                messages.success(request, _("Now sign the sign-in document with your certificate."))
        elif action == "sign":
            document_signatures.sign(
                request.user,
                post.get("kind", ""),
                int(post.get("document_id") or 0),
                sha256=post.get("sha256", ""),
                signature=post.get("signature", ""),
                public_key=post.get("public_key", ""),
            )
            messages.success(request, _("Signed with your certificate."))
            if post.get("next") == "blind":
                target = "evaluation:blind"
        elif action == "message":
            evaluation.post_message(request.user, session, text=post.get("text", ""))
        elif action in ("scores", "submit"):
            part = post.get("part", "")
            rows = _rows_from_post(request)
            if rows:
                evaluation.save_scores(request.user, session, part, rows)
            if action == "submit":
                evaluation.submit_sheet(request.user, session, part)
                messages.success(request, _("Your points are submitted."))
            else:
                messages.success(request, _("Your scores are saved."))
            if part == "technical":
                target = "evaluation:blind"
        elif action == "ask":
            bid = OpenedBid.objects.filter(pk=post.get("bid") or 0).first()
            if bid is None:
                messages.error(request, _("Ask about a bid under evaluation."))
            else:
                evaluation.ask_clarification(
                    request.user, session, bid=bid, question=post.get("question", "")
                )
                messages.success(request, _("The question is sent to the bidder."))
        elif action == "adjust":
            bid = OpenedBid.objects.filter(pk=post.get("bid") or 0).first()
            if bid is None:
                messages.error(request, _("Adjust a bid under evaluation."))
            else:
                evaluation.record_adjustment(
                    request.user,
                    session,
                    bid=bid,
                    amount=post.get("amount", ""),
                    reason=post.get("reason", ""),
                    clause=post.get("clause", ""),
                )
        elif action == "results":
            evaluation.compute_results(request.user, session)
            evaluation.perform_draws(session)
            messages.success(request, _("The results are computed."))
        elif action == "report":
            evaluation.generate_report(request.user, session)
            messages.success(request, _("The report is ready for every member to sign."))
        elif action == "pay":
            fee = ExpertFee.objects.filter(pk=post.get("fee") or 0, session=session).first()
            if fee is None:
                messages.error(request, _("No such fee."))
            else:
                evaluation.pay_fee(request.user, fee, reference=post.get("reference", ""))
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, str(error))
    except ValueError:
        messages.error(request, _("Not a valid request."))
    return redirect(target, pk=tender.pk)


@login_required
def blind_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A member's blind review: the technical bids in their own order, under codes."""
    tender = _tender(pk)
    session = evaluation.session_of(tender)
    if session is None:
        raise Http404
    member = committees.member_of(request.user, session.committee)
    if member is None:
        return render(
            request,
            "tendering/refused.html",
            {"message": _("Only the committee's members take part in the evaluation.")},
            status=403,
        )
    listing = evaluation.blind_list(request.user, session)
    sheet = session.sheets.filter(member=member, part="technical").first()
    have: dict[tuple[str, str], Any] = {}
    if sheet is not None:
        for s in sheet.scores.all():
            have[(evaluation.code_of(session, s.bid_id), s.criterion)] = s
    factors = evaluation.criteria(session, "technical")
    rows = [
        {
            **item,
            "cells": [
                {
                    "criterion": c,
                    "name": f"score__{item['code']}__{c['code']}",
                    "reason_name": f"reason__{item['code']}__{c['code']}",
                    "score": have.get((item["code"], c["code"])),
                }
                for c in factors
            ],
        }
        for item in listing
    ]
    sign = None
    if sheet and sheet.submitted_at and not sheet.signed_at:
        sign = _sign_box(
            evaluation.SCORES_KIND,
            sheet.pk,
            evaluation._digest(evaluation.sheet_document(session, sheet)),
        )
    return render(
        request,
        "evaluation/blind.html",
        {
            "tender": tender,
            "session": session,
            "rows": rows,
            "factors": factors,
            "sheet": sheet,
            "sign": sign,
            "present": evaluation.signed_in_at(session, member) is not None,
            "open": session.status == EvaluationSession.Status.TECHNICAL,
        },
    )


@login_required
def blind_file(request: HttpRequest, pk: int, code: str, n: int) -> HttpResponse:
    session = evaluation.session_of(_tender(pk))
    if session is None:
        raise Http404
    try:
        name, data = evaluation.technical_file(request.user, session, code, n)
    except DomainError as error:
        raise Http404(str(error)) from None
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    session = evaluation.session_of(_tender(pk))
    if session is None or not evaluation.may_download_report(request.user, session):
        raise Http404
    response = HttpResponse(bytes(session.report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="evaluation-{pk}.pdf"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def my_clarifications(request: HttpRequest) -> HttpResponse:
    """A bidder's clarification requests from evaluation committees, and its answers."""
    if request.method == "POST":
        found = ClarificationRequest.objects.filter(pk=request.POST.get("request") or 0).first()
        try:
            if found is None:
                messages.error(request, _("No such clarification request."))
            else:
                evaluation.answer_clarification(
                    request.user, found, answer=request.POST.get("answer", "")
                )
                messages.success(request, _("Your answer is sent to the committee."))
        except DomainError as error:
            messages.error(request, str(error))
        return redirect("evaluation:my_clarifications")
    return render(
        request,
        "evaluation/clarifications.html",
        {"requests": evaluation.clarifications_for(request.user)},
    )
