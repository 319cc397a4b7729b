"""The expert pool (专家库) and evaluation committees (评标委员会).

Rows change only through ``openbid.evaluation.services`` (the pool) and
``openbid.evaluation.committee`` (draws, members, the chair). An expert's identity number is never
stored: only a keyed digest of it, to keep one person from being admitted twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Expert(models.Model):
    """An evaluation expert of the pool."""

    class Status(models.TextChoices):
        ADMITTED = "admitted", _("admitted")
        SUSPENDED = "suspended", _("suspended")
        REMOVED = "removed", _("removed (清退)")

    name = models.CharField(_("name"), max_length=80)
    id_digest = models.CharField(
        _("digest of the identity number"), max_length=64, unique=True, editable=False
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expert",
        verbose_name=_("user account"),
    )
    employer = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="experts",
        verbose_name=_("employer"),
    )
    region_code = models.CharField(_("region (GB/T 2260)"), max_length=6)
    title = models.CharField(_("professional title"), max_length=80, blank=True)
    qualifications = models.JSONField(_("qualifications"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ADMITTED
    )
    status_reason = models.TextField(_("reason for the status"), blank=True)
    admitted_at = models.DateTimeField(_("admitted at"))
    status_changed_at = models.DateTimeField(_("status changed at"))

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("expert")
        verbose_name_plural = _("experts")

    def __str__(self) -> str:
        return self.name

    @property
    def specialty_codes(self) -> list[str]:
        return [s.code for s in self.specialties.all()]


class ExpertSpecialty(models.Model):
    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="specialties")
    code = models.CharField(_("specialty code"), max_length=16)

    class Meta:
        ordering = ["expert", "code"]
        constraints = [
            models.UniqueConstraint(fields=["expert", "code"], name="unique_expert_specialty")
        ]
        verbose_name = _("expert's specialty")
        verbose_name_plural = _("experts' specialties")

    def __str__(self) -> str:
        return self.code


class Unavailability(models.Model):
    """Days an expert cannot evaluate (both ends included)."""

    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="unavailable")
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    withdrawn = models.BooleanField(_("withdrawn"), default=False)
    created_at = models.DateTimeField(_("entered at"))

    class Meta:
        ordering = ["expert", "start"]
        verbose_name = _("unavailability")
        verbose_name_plural = _("unavailabilities")

    def __str__(self) -> str:
        return f"{self.expert_id}: {self.start}–{self.end}"


class ConflictDeclaration(models.Model):
    """An expert's declared conflict of interest with an organisation (回避申报)."""

    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="conflicts")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    declared_at = models.DateTimeField(_("declared at"))

    class Meta:
        ordering = ["expert", "declared_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["expert", "organisation"], name="unique_conflict_declaration"
            )
        ]
        verbose_name = _("declared conflict")
        verbose_name_plural = _("declared conflicts")

    def __str__(self) -> str:
        return f"{self.expert_id} ↔ {self.organisation_id}"


class Committee(models.Model):
    """A tender's evaluation committee: drawn experts and the tenderer's representatives."""

    class Status(models.TextChoices):
        DRAWING = "drawing", _("drawing experts")
        CONFIRMING = "confirming", _("waiting for the experts' confirmations")
        FORMED = "formed", _("formed")

    tender = models.OneToOneField(
        "tendering.Tender", on_delete=models.PROTECT, related_name="committee"
    )
    evaluation_date = models.DateField(_("evaluation date"))
    criteria = models.JSONField(_("draw criteria"))
    expert_seats = models.PositiveSmallIntegerField(_("expert seats"))
    representative_seats = models.PositiveSmallIntegerField(
        _("seats of the tenderer's representatives"), default=0
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAWING
    )
    chair = models.ForeignKey(
        "CommitteeMember",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("chair"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))
    formed_at = models.DateTimeField(_("formed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("members published at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("evaluation committee")
        verbose_name_plural = _("evaluation committees")

    def __str__(self) -> str:
        return f"committee of tender {self.tender_id}"

    @property
    def size(self) -> int:
        return self.expert_seats + self.representative_seats


class CommitteeMember(models.Model):
    """A seat taken: a drawn expert (invited, confirmed, declined) or a representative."""

    class Kind(models.TextChoices):
        EXPERT = "expert", _("expert")
        REPRESENTATIVE = "representative", _("tenderer's representative")

    class Status(models.TextChoices):
        INVITED = "invited", _("invited")
        CONFIRMED = "confirmed", _("confirmed")
        DECLINED = "declined", _("declined")

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="members")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    expert = models.ForeignKey(
        Expert, on_delete=models.PROTECT, null=True, blank=True, related_name="seats"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("the representative's account"),
    )
    group = models.CharField(_("draw group"), max_length=20, blank=True)
    draw = models.ForeignKey(
        "draws.Draw", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reserve_rank = models.PositiveSmallIntegerField(
        _("reserve rank"), null=True, blank=True, help_text=_("empty for a drawn member")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.INVITED
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    invited_at = models.DateTimeField(_("invited at"))
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["committee", "id"]
        verbose_name = _("committee member")
        verbose_name_plural = _("committee members")

    def __str__(self) -> str:
        who = self.expert or self.user
        return f"{who} ({self.get_status_display()})"

    @property
    def display_name(self) -> str:
        if self.expert is not None:
            return self.expert.name
        return str(self.user) if self.user is not None else ""


class Reserve(models.Model):
    """A drawn reserve (候补), asked in drawn order when a member of its group declines."""

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="reserves")
    draw = models.ForeignKey("draws.Draw", on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("draw group"), max_length=20)
    rank = models.PositiveSmallIntegerField(_("rank"))
    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="+")
    used_at = models.DateTimeField(_("asked at"), null=True, blank=True)

    class Meta:
        ordering = ["committee", "draw", "group", "rank"]
        verbose_name = _("reserve")
        verbose_name_plural = _("reserves")

    def __str__(self) -> str:
        return f"reserve {self.rank} of {self.group}"


class Recusal(models.Model):
    """An expert left out of a draw before drawing (回避), with the reason. Kept private."""

    class Reason(models.TextChoices):
        EMPLOYER_TENDERER = "employer_tenderer", _("works for the tenderer")
        EMPLOYER_AGENCY = "employer_agency", _("works for the tendering agency")
        EMPLOYER_BIDDER = "employer_bidder", _("works for a bidder")
        DECLARED_CONFLICT = "declared_conflict", _("declared a conflict of interest")
        JOINT_EVALUATIONS = "joint_evaluations", _("too many recent evaluations together")
        UNAVAILABLE = "unavailable", _("unavailable on the evaluation date")
        SERIOUSLY_DISHONEST = "seriously_dishonest", _("on the serious-dishonesty list")
        ALREADY_DRAWN = "already_drawn", _("already drawn for this committee")

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="recusals")
    draw = models.ForeignKey("draws.Draw", on_delete=models.PROTECT, related_name="+")
    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    detail = models.CharField(_("details"), max_length=300, blank=True)

    class Meta:
        ordering = ["draw", "expert", "reason"]
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")

    def __str__(self) -> str:
        return f"{self.expert_id}: {self.reason}"


class ChairVote(models.Model):
    """One member's vote for the chair (主任委员), in a round of the election."""

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="votes")
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    voter = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    candidate = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    voted_at = models.DateTimeField(_("voted at"))

    class Meta:
        ordering = ["committee", "round", "voted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "round", "voter"], name="unique_chair_vote"
            )
        ]
        verbose_name = _("chair vote")
        verbose_name_plural = _("chair votes")

    def __str__(self) -> str:
        return f"{self.voter_id} → {self.candidate_id}"


# --- the evaluation session (评标) -----------------------------------------------------------------


class EvaluationSession(models.Model):
    """A committee's evaluation of a tender, at a main venue and secondary venues (主场/副场).

    Rows change only through ``openbid.evaluation.session``. ``blind_secret`` stays on the
    platform until every technical score sheet is signed; then the plan and the secret are
    published (``blind_plan``) and anyone can check them against ``blind_commitment``.
    """

    class Status(models.TextChoices):
        TECHNICAL = "technical", _("blind technical review")
        COMMERCIAL = "commercial", _("commercial review")
        SUMMARY = "summary", _("scores signed: results to compute")
        SCORED = "scored", _("scored")
        REPORTING = "reporting", _("report awaiting signatures")
        COMPLETED = "completed", _("completed")

    tender = models.OneToOneField(
        "tendering.Tender", on_delete=models.PROTECT, related_name="evaluation"
    )
    committee = models.OneToOneField(Committee, on_delete=models.PROTECT, related_name="session")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.TECHNICAL
    )
    rules = models.JSONField(_("announced evaluation rules"))
    clearing = models.JSONField(_("clearing findings"), default=dict)
    similarity = models.JSONField(_("similarity check"), default=dict)
    blind_secret = models.BinaryField(_("blind-review secret"), editable=False)
    blind_commitment = models.CharField(_("blind-review commitment"), max_length=64)
    blind_codes = models.JSONField(_("codes of the technical bids"), default=dict, editable=False)
    blind_plan = models.JSONField(_("published blind-review plan"), null=True, blank=True)
    revealed_at = models.DateTimeField(_("identities revealed at"), null=True, blank=True)
    coefficient_draw = models.ForeignKey(
        "draws.Draw", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    coefficient = models.CharField(_("drawn coefficient K"), max_length=20, blank=True)
    coefficient_index = models.PositiveSmallIntegerField(null=True, blank=True)
    result = models.JSONField(_("scores, working and ranking"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("started at"))
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("evaluation session")
        verbose_name_plural = _("evaluation sessions")

    def __str__(self) -> str:
        return f"evaluation of tender {self.tender_id}"


class Venue(models.Model):
    """Where members evaluate: the main venue (主场) and secondary venues (副场) in other regions."""

    class Kind(models.TextChoices):
        MAIN = "main", _("main venue (主场)")
        SECONDARY = "secondary", _("secondary venue (副场)")

    session = models.ForeignKey(EvaluationSession, on_delete=models.PROTECT, related_name="venues")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    region_code = models.CharField(_("region (GB/T 2260)"), max_length=6)

    class Meta:
        ordering = ["session", "-kind", "id"]
        verbose_name = _("venue")
        verbose_name_plural = _("venues")

    def __str__(self) -> str:
        return self.name


class Attendance(models.Model):
    """A member's sign-in at a venue, complete once signed with their certificate."""

    session = models.ForeignKey(
        EvaluationSession, on_delete=models.PROTECT, related_name="attendance"
    )
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="attendance")
    sha256 = models.CharField(_("SHA-256 of the sign-in document"), max_length=64)
    document = models.JSONField(_("sign-in document"))
    requested_at = models.DateTimeField(_("requested at"))
    signed_in_at = models.DateTimeField(_("signed in at"), null=True, blank=True)

    class Meta:
        ordering = ["session", "requested_at", "id"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")

    def __str__(self) -> str:
        return f"{self.member_id} at {self.venue_id}"


class Message(models.Model):
    """One entry of the committee's discussion record (讨论记录)."""

    session = models.ForeignKey(
        EvaluationSession, on_delete=models.PROTECT, related_name="messages"
    )
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("message"))
    posted_at = models.DateTimeField(_("posted at"))

    class Meta:
        ordering = ["session", "posted_at", "id"]
        verbose_name = _("discussion message")
        verbose_name_plural = _("discussion record")

    def __str__(self) -> str:
        return self.text[:40]


class ClarificationRequest(models.Model):
    """A question the committee puts to a bidder through the platform (澄清、说明), and its answer."""

    session = models.ForeignKey(
        EvaluationSession, on_delete=models.PROTECT, related_name="clarifications"
    )
    bid = models.ForeignKey("opening.OpenedBid", on_delete=models.PROTECT, related_name="+")
    finding = models.CharField(_("clearing finding"), max_length=40, blank=True)
    question = models.TextField(_("question"))
    asked_at = models.DateTimeField(_("asked at"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["session", "asked_at", "id"]
        verbose_name = _("clarification request")
        verbose_name_plural = _("clarification requests")

    def __str__(self) -> str:
        return self.question[:40]


class ScoreSheet(models.Model):
    """One member's scores of one part (technical: blind; commercial) — signed with their
    certificate as a document of kind ``evaluation-scores``."""

    class Part(models.TextChoices):
        TECHNICAL = "technical", _("technical (blind)")
        COMMERCIAL = "commercial", _("commercial")

    session = models.ForeignKey(EvaluationSession, on_delete=models.PROTECT, related_name="sheets")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    part = models.CharField(_("part"), max_length=12, choices=Part.choices)
    submitted_at = models.DateTimeField(_("points submitted at"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the signed sheet"), max_length=64, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)

    class Meta:
        ordering = ["session", "part", "member"]
        constraints = [
            models.UniqueConstraint(fields=["session", "member", "part"], name="unique_score_sheet")
        ]
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")

    def __str__(self) -> str:
        return f"{self.part} sheet of {self.member_id}"


class Score(models.Model):
    """An expert's points for one bid on one factor, with the written reason (评分理由)."""

    sheet = models.ForeignKey(ScoreSheet, on_delete=models.PROTECT, related_name="scores")
    bid = models.ForeignKey("opening.OpenedBid", on_delete=models.PROTECT, related_name="+")
    criterion = models.CharField(_("factor"), max_length=16)
    points = models.DecimalField(_("points"), max_digits=8, decimal_places=2)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["sheet", "bid", "criterion"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "bid", "criterion"], name="unique_score")
        ]
        verbose_name = _("score")
        verbose_name_plural = _("scores")

    def __str__(self) -> str:
        return f"{self.criterion}: {self.points}"


class PriceAdjustment(models.Model):
    """A quantified adjustment of a bid price (价格折算) under the lowest evaluated price method,
    recorded by the chair for the committee, with its reason."""

    session = models.ForeignKey(
        EvaluationSession, on_delete=models.PROTECT, related_name="adjustments"
    )
    bid = models.ForeignKey("opening.OpenedBid", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount (yuan)"), max_digits=16, decimal_places=2)
    reason = models.TextField(_("reason"))
    clause = models.CharField(_("tender clause"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["session", "bid", "id"]
        verbose_name = _("price adjustment")
        verbose_name_plural = _("price adjustments")

    def __str__(self) -> str:
        return f"{self.amount} ({self.reason[:30]})"


class Report(models.Model):
    """The evaluation report (评标报告): a PDF whose SHA-256 every member signs (``evaluation-report``)."""

    session = models.OneToOneField(
        EvaluationSession, on_delete=models.PROTECT, related_name="report"
    )
    pdf = models.BinaryField(_("PDF"), editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    candidates = models.JSONField(_("recommended candidates"), default=list)
    generated_at = models.DateTimeField(_("generated at"))
    completed_at = models.DateTimeField(_("signed by all at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation report")
        verbose_name_plural = _("evaluation reports")

    def __str__(self) -> str:
        return f"report of {self.session_id}"


class ExpertFee(models.Model):
    """A member's evaluation fee (评标劳务费), recorded for online payment."""

    class Status(models.TextChoices):
        PAYABLE = "payable", _("payable")
        PAID = "paid", _("paid")

    session = models.ForeignKey(EvaluationSession, on_delete=models.PROTECT, related_name="fees")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    basis = models.CharField(_("basis"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PAYABLE
    )
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        ordering = ["session", "member"]
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="unique_expert_fee")
        ]
        verbose_name = _("expert fee")
        verbose_name_plural = _("expert fees")

    def __str__(self) -> str:
        return f"{self.amount} ({self.status})"
