"""Objections (异议), complaints (投诉), their timers, suspensions, and the feedback ledger.

Rows change only through ``openbid.disputes.services``. A case is never edited after a step is
taken: each step is a row (a reply, a request for materials, a hearing record, a decision) or a
timestamp set once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from openbid.tendering.models import Industry


class Matter(models.TextChoices):
    """What an objection or a complaint is about."""

    PREQUAL_DOCS = "prequal_docs", _("prequalification documents (资格预审文件)")
    TENDER_DOCS = "tender_docs", _("tender documents (招标文件)")
    OPENING = "opening", _("the opening (开标)")
    EVALUATION = "evaluation", _("the evaluation result (评标结果)")
    OTHER = "other", _("other conduct of the tender (其他违法行为)")


# Matters on which an objection to the tenderer must come first (Reg art. 60, referring to arts.
# 22, 44 and 54).
OBJECTION_FIRST = frozenset(
    {Matter.PREQUAL_DOCS, Matter.TENDER_DOCS, Matter.OPENING, Matter.EVALUATION}
)


class ResponsibilityEntry(models.Model):
    """One line of the responsibility list (行政监督职责分工 / 权责清单): which regulator supervises
    tenders of an industry in a region. A blank industry means every industry; the region is a
    GB/T 2260 code, matched exactly, then at city level, then at province level."""

    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    region_code = models.CharField(_("region (GB/T 2260)"), max_length=6)
    regulator = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="responsibilities",
        verbose_name=_("regulator"),
    )
    basis = models.CharField(_("basis (职责分工文件)"), max_length=300)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["region_code", "industry"]
        constraints = [
            models.UniqueConstraint(
                fields=["industry", "region_code"],
                condition=models.Q(active=True),
                name="unique_active_responsibility",
            )
        ]
        verbose_name = _("responsibility list entry")
        verbose_name_plural = _("responsibility list")

    def __str__(self) -> str:
        return f"{self.region_code} {self.industry or '*'} → {self.regulator_id}"


class Objection(models.Model):
    """An objection (异议) to the tenderer about the documents or the evaluation result."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting the reply")
        ANSWERED = "answered", _("answered")

    tender = models.ForeignKey("tendering.Tender", on_delete=models.PROTECT, related_name="+")
    matter = models.CharField(_("about"), max_length=20, choices=Matter.choices)
    raised_by = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    raised_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("objection"))
    raised_at = models.DateTimeField(_("raised at"))
    reply_due = models.DateTimeField(_("reply due by"))
    suspends = models.BooleanField(_("suspends the tender until the reply"), default=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reply = models.TextField(_("reply"), blank=True)
    changes_documents = models.BooleanField(
        _("the documents will be clarified or amended"), default=False
    )
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replied_by_org = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"YY-{self.raised_at:%Y}-{self.pk:04d}"


class Complaint(models.Model):
    """A complaint (投诉) to the competent regulator."""

    class Status(models.TextChoices):
        FILED = "filed", _("filed, awaiting the acceptance decision")
        REJECTED = "rejected", _("not accepted (不予受理)")
        ACCEPTED = "accepted", _("accepted, under investigation")
        DECIDED = "decided", _("decided")

    class Rejection(models.TextChoices):
        OUT_OF_TIME = "out_of_time", _("filed after the complaint period (超过投诉时效)")
        NO_STANDING = (
            "no_standing",
            _("the complainant is not a bidder or other interested party (非利害关系人)"),
        )
        REPEAT = "repeat", _("repeats a decided matter without new evidence (重复投诉)")
        OBJECTION_FIRST = "objection_first", _("no objection was raised first (未先提出异议)")
        NOT_SPECIFIC = (
            "not_specific",
            _("the complaint is not specific and gives no verifiable leads (投诉事项不具体)"),
        )
        OTHER_AUTHORITY = (
            "other_authority",
            _("under review or litigation already, or another authority handles it"),
        )

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("upheld (投诉成立)")
        PARTLY = "partly", _("partly upheld (投诉部分成立)")
        DISMISSED = "dismissed", _("dismissed (驳回投诉)")

    tender = models.ForeignKey("tendering.Tender", on_delete=models.PROTECT, related_name="+")
    matter = models.CharField(_("about"), max_length=20, choices=Matter.choices)
    objection = models.ForeignKey(
        Objection, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    opening_objection = models.ForeignKey(
        "opening.OpeningObjection",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    complainant = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    complainant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    regulator = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="complaints_handled"
    )
    respondents = models.ManyToManyField(
        "accounts.Organisation", related_name="+", verbose_name=_("respondents")
    )
    knew_on = models.DateField(_("knew or should have known on"))
    window_end = models.DateTimeField(_("complaint period ended"))
    text = models.TextField(_("facts and grounds"))
    requests = models.TextField(_("what the complainant asks for"))
    filed_at = models.DateTimeField(_("filed at"))
    accept_due = models.DateTimeField(_("acceptance decision due by"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.FILED
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    rejection = models.CharField(
        _("ground of rejection"), max_length=20, choices=Rejection.choices, blank=True
    )
    rejection_reason = models.TextField(_("reasons for not accepting"), blank=True)
    decide_due = models.DateTimeField(_("decision due by"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    findings = models.TextField(_("facts found and reasons"), blank=True)
    measures = models.TextField(_("measures ordered"), blank=True)
    penalty = models.TextField(_("administrative penalty"), blank=True)
    decision_number = models.CharField(_("decision document number"), max_length=120, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"TS-{self.filed_at:%Y}-{self.pk:04d}"


class InvestigationStep(models.Model):
    """One step of a complaint's investigation: a request for materials, a reply to one, a hearing
    record, or a period not counted (检验、检测、鉴定、专家评审, Reg art. 61)."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("request for materials (调取材料)")
        REPLY = "reply", _("reply with materials")
        HEARING = "hearing", _("hearing record (听证/询问笔录)")
        PAUSE = "pause", _("period not counted (检验、检测、鉴定、专家评审)")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    addressee = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    request = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replies"
    )
    text = models.TextField(_("text"))
    due = models.DateTimeField(_("due by"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_org = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("investigation step")
        verbose_name_plural = _("investigation steps")

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind} {self.pk}"


class Referral(models.Model):
    """A case referred to discipline inspection or the police (两法衔接, 纪法衔接)."""

    class Body(models.TextChoices):
        DISCIPLINE = "discipline", _("discipline inspection and supervision (纪检监察机关)")
        POLICE = "police", _("public security (公安机关)")
        PROSECUTION = "prosecution", _("procuratorate (检察机关)")
        OTHER = "other", _("other authority")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="referrals")
    body = models.CharField(_("referred to"), max_length=12, choices=Body.choices)
    body_name = models.CharField(_("authority"), max_length=200)
    reference = models.CharField(_("referral document number"), max_length=120)
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("referred at"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return self.reference


class Suspension(models.Model):
    """A hold on a tender's next steps (``openbid.core.holds``): from a pending objection that
    suspends it (Reg arts. 22, 54) or a regulator's order (Reg art. 62)."""

    tender = models.ForeignKey("tendering.Tender", on_delete=models.PROTECT, related_name="+")
    objection = models.ForeignKey(
        Objection, on_delete=models.PROTECT, null=True, blank=True, related_name="suspensions"
    )
    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, null=True, blank=True, related_name="suspensions"
    )
    steps = models.JSONField(_("steps suspended"))
    reason = models.TextField(_("reason"))
    rule = models.CharField(_("rule"), max_length=60)
    article = models.CharField(_("article"), max_length=120)
    started_at = models.DateTimeField(_("from"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_reason = models.TextField(_("why it was released"), blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("suspension")
        verbose_name_plural = _("suspensions")

    def __str__(self) -> str:
        return f"hold {self.pk} on tender {self.tender_id}"


class Feedback(models.Model):
    """A suggestion or problem report about the service (意见建议征集), answered by the trading centre."""

    class Kind(models.TextChoices):
        SUGGESTION = "suggestion", _("suggestion (意见建议)")
        PROBLEM = "problem", _("problem report (问题反映)")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    text = models.TextField(_("text"))
    submitted_by = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    submitted_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    answer_due = models.DateTimeField(_("answer due by"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("suggestion or problem report")
        verbose_name_plural = _("suggestions and problem reports")

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"YJ-{self.submitted_at:%Y}-{self.pk:04d}"


class Timer(models.Model):
    """One timed step of a case: its statutory limit, its target (half of it by default), when it
    was done, and the warnings given (each once)."""

    class Case(models.TextChoices):
        OBJECTION = "objection", _("objection")
        COMPLAINT = "complaint", _("complaint")
        FEEDBACK = "feedback", _("suggestion or problem report")

    class Step(models.TextChoices):
        REPLY = "reply", _("reply to the objection")
        ACCEPT = "accept", _("decide whether to accept the complaint")
        DECIDE = "decide", _("decide the complaint")
        ANSWER = "answer", _("answer the suggestion or problem report")

    case = models.CharField(_("case"), max_length=10, choices=Case.choices)
    case_id = models.PositiveBigIntegerField(_("case id"))
    step = models.CharField(_("step"), max_length=10, choices=Step.choices)
    handler = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rule = models.CharField(_("rule"), max_length=60)
    article = models.CharField(_("article"), max_length=120)
    started_at = models.DateTimeField(_("started at"))
    target_at = models.DateTimeField(_("target"))
    due_at = models.DateTimeField(_("statutory limit"))
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "case_id", "step"], name="unique_case_step")
        ]
        verbose_name = _("timer")
        verbose_name_plural = _("timers")

    def __str__(self) -> str:
        return f"{self.case} {self.case_id} {self.step}"


class Alert(models.Model):
    """A warning given once: before the target, before the limit, or an escalation when overdue."""

    class Kind(models.TextChoices):
        TARGET = "target", _("the target is near")
        LIMIT = "limit", _("the statutory limit is near")
        ESCALATED = "escalated", _("overdue: escalated to the supervisor")

    timer = models.ForeignKey(Timer, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    to = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["timer", "kind", "to"], name="unique_alert")]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self) -> str:
        return f"{self.kind} {self.timer_id}"
