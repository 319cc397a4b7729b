"""Award and contract: candidate publicity, the award decision, notices, the written report to the
regulator, contracts with their versions, performance evaluations and payments.

Rows change only through ``openbid.award.services``. Published documents (a publicity, a decision,
a notice, a signed contract version) are never edited: a contract change is a new version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Publicity(models.Model):
    """The candidate publicity (中标候选人公示) of one section (Reg art. 54)."""

    tender = models.ForeignKey(
        "tendering.Tender", on_delete=models.PROTECT, related_name="publicities"
    )
    section = models.OneToOneField(
        "tendering.Section", on_delete=models.PROTECT, related_name="publicity"
    )
    report_sha256 = models.CharField(_("SHA-256 of the evaluation report"), max_length=64)
    ranked = models.BooleanField(_("candidates in rank order"), default=True)
    notice = models.OneToOneField(
        "tendering.Notice", on_delete=models.PROTECT, related_name="publicity"
    )
    published_at = models.DateTimeField(_("published at"))
    ends_at = models.DateTimeField(_("publicity ends at"))
    days = models.PositiveSmallIntegerField(_("publicity period (days)"))
    ended_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["tender", "section__number"]
        verbose_name = _("candidate publicity")
        verbose_name_plural = _("candidate publicities")

    def __str__(self) -> str:
        return f"{self.tender_id}/{self.section_id}"


class Candidate(models.Model):
    """A recommended candidate (中标候选人) with what the publicity discloses about it."""

    publicity = models.ForeignKey(Publicity, on_delete=models.PROTECT, related_name="candidates")
    position = models.PositiveSmallIntegerField(_("position in the list"))
    rank = models.PositiveSmallIntegerField(_("rank"), null=True, blank=True)
    bidder = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("bid price (yuan)"), max_digits=16, decimal_places=2)
    score = models.DecimalField(_("score"), max_digits=9, decimal_places=4, null=True, blank=True)
    evaluated_price = models.DecimalField(
        _("evaluated price (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    disclosed = models.JSONField(_("disclosed items"), default=dict)

    class Meta:
        ordering = ["publicity", "position"]
        constraints = [
            models.UniqueConstraint(fields=["publicity", "bidder"], name="unique_candidate"),
            models.UniqueConstraint(
                fields=["publicity", "position"], name="unique_candidate_position"
            ),
        ]
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")

    def __str__(self) -> str:
        return f"{self.position}. {self.bidder_id}"


class Suspension(models.Model):
    """A suspension of the award process (暂停) while an objection or complaint is handled."""

    tender = models.ForeignKey("tendering.Tender", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    suspended_at = models.DateTimeField(_("suspended at"))
    suspended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    resumed_at = models.DateTimeField(_("resumed at"), null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resume_note = models.TextField(_("note on resuming"), blank=True)

    class Meta:
        ordering = ["suspended_at", "id"]
        verbose_name = _("suspension")
        verbose_name_plural = _("suspensions")

    def __str__(self) -> str:
        return f"{self.tender_id} @ {self.suspended_at}"


class Decision(models.Model):
    """The award decision (定标) of one section: who wins, by which method, and why."""

    class Method(models.TextChoices):
        FIRST_RANKED = "first_ranked", _("first-ranked candidate")
        NEXT_RANKED = "next_ranked", _("next candidate in rank order (Reg art. 55)")
        VOTE = "vote", _("decision committee vote (票决)")
        LOTTERY = "lottery", _("verifiable lottery (抽签)")
        DELIBERATION = "deliberation", _("collective deliberation (集体议事)")

    class Status(models.TextChoices):
        DRAWING = "drawing", _("lottery committed, waiting for its seed")
        DECIDED = "decided", _("decided")

    publicity = models.OneToOneField(Publicity, on_delete=models.PROTECT, related_name="decision")
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    winner = models.ForeignKey(
        Candidate, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reasons = models.TextField(_("reasons"), blank=True)
    passed_over = models.JSONField(_("candidates passed over"), default=list, blank=True)
    draw = models.OneToOneField(
        "draws.Draw", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_org = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    text = models.TextField(_("published decision"), blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["publicity"]
        verbose_name = _("award decision")
        verbose_name_plural = _("award decisions")

    def __str__(self) -> str:
        return f"decision {self.pk} ({self.method})"


class Vote(models.Model):
    """One decision committee member's vote (票决)."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="votes")
    member = models.CharField(_("member"), max_length=80)
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["decision", "id"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "member"], name="one_vote_per_member")
        ]
        verbose_name = _("vote")
        verbose_name_plural = _("votes")

    def __str__(self) -> str:
        return f"{self.member} → {self.candidate_id}"


class AwardNotice(models.Model):
    """The award notice (中标通知书) to the winner, or a result notice to another bidder."""

    class Kind(models.TextChoices):
        AWARD = "award", _("award notice (中标通知书)")
        RESULT = "result", _("result notice (中标结果通知书)")

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    recipient = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="award_notices"
    )
    text = models.TextField(_("text"))
    sha256 = models.CharField(max_length=64)
    prepared_at = models.DateTimeField(_("prepared at"))
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    class Meta:
        ordering = ["decision", "kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "recipient"], name="one_notice_per_bidder")
        ]
        verbose_name = _("award notice")
        verbose_name_plural = _("award notices")

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class WrittenReport(models.Model):
    """The written report to the regulator (招标投标情况书面报告, Law art. 47): one per tender,
    due within 15 days of the first award decision."""

    tender = models.OneToOneField(
        "tendering.Tender", on_delete=models.PROTECT, related_name="written_report"
    )
    decided_at = models.DateTimeField(_("winner decided at"))
    due_at = models.DateTimeField(_("due at"))
    text = models.TextField(_("text"), blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    late = models.BooleanField(_("filed late"), default=False)
    warned_at = models.DateTimeField(_("due-soon warning at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("written report to the regulator")
        verbose_name_plural = _("written reports to the regulator")

    def __str__(self) -> str:
        return f"report {self.tender_id}"


class ContractTemplate(models.Model):
    """A contract template (合同范本) kept by the trading centre; ``${placeholders}`` are filled
    from the award."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("tender kind"), max_length=20, blank=True)
    body = models.TextField(_("text with placeholders"))
    active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("contract template")
        verbose_name_plural = _("contract templates")

    def __str__(self) -> str:
        return self.name


class Contract(models.Model):
    """The written contract (合同) of one awarded section between the tenderer and the winner."""

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="contract")
    number = models.CharField(_("contract number"), max_length=40, unique=True)
    tenderer = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    winner = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="contracts_won"
    )
    template = models.ForeignKey(ContractTemplate, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(_("to be signed by"))
    late_reason = models.TextField(_("reason for signing after the statutory period"), blank=True)
    late = models.BooleanField(_("signed late"), default=False)
    signed_at = models.DateTimeField(_("signed by both at"), null=True, blank=True)
    warned_days = models.JSONField(default=list, blank=True, editable=False)
    overdue_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)
    created_at = models.DateTimeField(_("drafted at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self) -> str:
        return self.number


class ContractVersion(models.Model):
    """One version of a contract's text: the first draft, or a change (合同变更) with its reasons."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    price = models.DecimalField(_("contract price (yuan)"), max_digits=16, decimal_places=2)
    duration_days = models.PositiveIntegerField(_("duration (days)"))
    key_terms = models.TextField(_("key terms"))
    text = models.TextField(_("text"))
    sha256 = models.CharField(max_length=64)
    reason = models.TextField(_("reason for the change"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    signed_at = models.DateTimeField(_("signed by both at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="unique_contract_version")
        ]
        verbose_name = _("contract version")
        verbose_name_plural = _("contract versions")

    def __str__(self) -> str:
        return f"{self.contract_id} v{self.number}"


class PerformanceEvaluation(models.Model):
    """The tenderer's evaluation of the winner's performance (履约评价) at a milestone or the end."""

    class Rating(models.TextChoices):
        EXCELLENT = "excellent", _("excellent (优秀)")
        GOOD = "good", _("good (良好)")
        QUALIFIED = "qualified", _("qualified (合格)")
        POOR = "poor", _("poor (较差)")
        UNQUALIFIED = "unqualified", _("unqualified (不合格)")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="evaluations")
    milestone = models.CharField(_("milestone"), max_length=120)
    final = models.BooleanField(_("final evaluation"), default=False)
    rating = models.CharField(_("rating"), max_length=12, choices=Rating.choices)
    comments = models.TextField(_("comments"))
    evaluated_on = models.DateField(_("evaluated on"))
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    credit_record = models.OneToOneField(
        "credit.CreditRecord", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["contract", "evaluated_on", "id"]
        verbose_name = _("performance evaluation")
        verbose_name_plural = _("performance evaluations")

    def __str__(self) -> str:
        return f"{self.contract_id} {self.milestone}"


class Payment(models.Model):
    """A payment made under a contract (合同支付), as the tenderer records it."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount (yuan)"), max_digits=16, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    milestone = models.CharField(_("milestone"), max_length=120)
    reference = models.CharField(_("payment reference"), max_length=80)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["contract", "paid_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "reference"], name="unique_payment_ref")
        ]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self) -> str:
        return f"{self.contract_id} {self.amount}"
