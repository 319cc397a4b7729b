"""Projects, tender plans, tenders and sections, notices, documents, questions and clarifications.

Rows change only through ``openbid.tendering.services``. Published notices, issued documents and
clarifications are never edited: a change is a new version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from openbid.tendering.lifecycle import State


class Industry(models.TextChoices):
    BUILDING = "building", _("building works (房屋建筑)")
    MUNICIPAL = "municipal", _("municipal works (市政)")
    TRANSPORT = "transport", _("transport (交通)")
    WATER = "water", _("water resources (水利)")
    POWER = "power", _("electric power (电力)")
    ENERGY = "energy", _("energy (能源)")
    LANDSCAPE = "landscape", _("landscaping (园林)")
    GP_GOODS = "gp_goods", _("government procurement: goods (政府采购货物)")
    GP_SERVICES = "gp_services", _("government procurement: services (政府采购服务)")
    OTHER = "other", _("other")


class FundingSource(models.TextChoices):
    BUDGET = "budget", _("government budget")
    STATE_OWNED = "state_owned", _("state-owned enterprise funds")
    SELF_RAISED = "self_raised", _("self-raised")
    MIXED = "mixed", _("mixed")
    FOREIGN = "foreign", _("international organisation or foreign government")


class Project(models.Model):
    """A registered project (项目登记), identified by its investment project code (项目代码)."""

    code = models.CharField(_("project code"), max_length=24, unique=True)
    name = models.CharField(_("project name"), max_length=200)
    region_code = models.CharField(_("region (GB/T 2260)"), max_length=6)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices)
    funding_source = models.CharField(
        _("funding source"), max_length=20, choices=FundingSource.choices
    )
    state_funding_percent = models.DecimalField(
        _("share of state funding (%)"), max_digits=5, decimal_places=2
    )
    estimated_investment = models.DecimalField(
        _("estimated investment (yuan)"), max_digits=16, decimal_places=2
    )
    tenderer = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="projects_as_tenderer"
    )
    agency = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects_as_agency",
    )
    approval_ref = models.CharField(_("approval or record document number"), max_length=120)
    green_channel = models.BooleanField(_("green channel (绿色通道)"), default=False)
    green_reason = models.TextField(_("green channel reason"), blank=True)
    green_exemptions = models.JSONField(_("rules exempted"), default=list, blank=True)
    registered_at = models.DateTimeField(_("registered at"))

    class Meta:
        ordering = ["-registered_at"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TenderPlan(models.Model):
    """A tender plan published ahead of the notice (招标计划提前发布)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="plans")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    expected_notice_date = models.DateField(_("expected notice date"))
    estimated_amount = models.DecimalField(
        _("estimated amount (yuan)"), max_digits=16, decimal_places=2
    )
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        ordering = ["expected_notice_date"]
        verbose_name = _("tender plan")
        verbose_name_plural = _("tender plans")

    def __str__(self) -> str:
        return self.title


class Tender(models.Model):
    """A tender (招标) of a project, with one or more sections (标段)."""

    class Method(models.TextChoices):
        OPEN = "open", _("open tender (公开招标)")
        INVITED = "invited", _("invitation tender (邀请招标)")

    class Kind(models.TextChoices):
        WORKS = "works", _("works (施工)")
        GOODS = "goods", _("goods (货物)")
        SERVICES = "services", _("services (服务)")
        SURVEY_DESIGN = "survey_design", _("survey and design (勘察设计)")

    class Evaluation(models.TextChoices):
        LOWEST_PRICE = "lowest_price", _("lowest evaluated price (经评审的最低投标价法)")
        COMPREHENSIVE = "comprehensive", _("comprehensive evaluation (综合评估法)")

    class AwardMethod(models.TextChoices):
        """How the tenderer decides among the recommended candidates when evaluation and award
        are separated (评定分离); announced in the tender, so it cannot be chosen afterwards."""

        VOTE = "vote", _("decision committee vote (票决)")
        LOTTERY = "lottery", _("verifiable lottery (抽签)")
        DELIBERATION = "deliberation", _("collective deliberation (集体议事)")

    class DepositForm(models.TextChoices):
        CASH_OR_GUARANTEE = "cash_or_guarantee", _("cash or e-guarantee")
        GUARANTEE = "guarantee", _("e-guarantee only")
        WAIVED = "waived", _("no deposit")

    class CryptoSuite(models.TextChoices):
        """The crypto suite every bid of the tender is sealed and signed with (openbid.crypto.suites)."""

        INTERNATIONAL = "intl-2026", _("international (Ed25519, X25519, AES-256-GCM, SHA-256)")
        NATIONAL = "sm-2026", _("national commercial cryptography 国密 (SM2, SM3, SM4)")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="tenders")
    plan = models.ForeignKey(
        TenderPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="tenders"
    )
    retender_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="retenders"
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    evaluation_method = models.CharField(
        _("evaluation method"), max_length=20, choices=Evaluation.choices
    )
    evaluation_weights = models.JSONField(_("evaluation weights (%)"), default=dict, blank=True)
    evaluation_rules = models.JSONField(
        _("announced evaluation rules"),
        default=dict,
        blank=True,
        help_text=_("factors, price formula, coefficient range, aggregation, tie-breaks"),
    )
    separated_award = models.BooleanField(
        _("evaluation separated from award (评定分离)"), default=False
    )
    award_method = models.CharField(
        _("award decision method (定标方法)"),
        max_length=20,
        choices=AwardMethod.choices,
        blank=True,
        help_text=_("required when evaluation is separated from award; empty otherwise"),
    )
    candidates_ranked = models.BooleanField(
        _("candidates recommended in rank order"),
        default=True,
        help_text=_("a separated award may ask the committee for unranked candidates"),
    )
    deposit_form = models.CharField(_("deposit form"), max_length=20, choices=DepositForm.choices)
    qualification = models.TextField(_("qualification requirements"))
    crypto_suite = models.CharField(
        _("crypto suite for sealed bids"),
        max_length=20,
        choices=CryptoSuite.choices,
        default=CryptoSuite.INTERNATIONAL,
    )
    decryption_window_minutes = models.PositiveSmallIntegerField(
        _("decryption window (minutes)"),
        default=30,
        help_text=_("how long bidders have to release their keys once the opening starts"),
    )
    doc_issue_start = models.DateTimeField(_("documents issued from"))
    doc_issue_end = models.DateTimeField(_("documents issued until"))
    question_deadline = models.DateTimeField(_("questions until"))
    bid_deadline = models.DateTimeField(_("bid deadline and opening time"))
    status = models.CharField(
        _("status"), max_length=20, choices=State.choices, default=State.DRAFT
    )
    status_reason = models.TextField(_("reason for the status"), blank=True)
    invited = models.ManyToManyField(
        "accounts.Organisation",
        blank=True,
        related_name="invitations",
        verbose_name=_("invited bidders"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    rules_date = models.DateField(
        _("rules in force on"),
        null=True,
        blank=True,
        help_text=_("the publication date: the tender keeps the rules in force that day"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("tender")
        verbose_name_plural = _("tenders")

    def __str__(self) -> str:
        return self.title


class Section(models.Model):
    """A section (标段, lot): bids, evaluation and award are per section."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="sections")
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    estimated_price = models.DecimalField(
        _("estimated price (yuan)"), max_digits=16, decimal_places=2
    )
    ceiling_price = models.DecimalField(
        _("ceiling price (最高投标限价, yuan)"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
    )
    deposit = models.DecimalField(_("bid deposit (yuan)"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["tender", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "number"], name="unique_section_number")
        ]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


class Notice(models.Model):
    """A published notice: immutable; a change is a new notice (an amendment or a cancellation)."""

    class Kind(models.TextChoices):
        TENDER = "tender", _("tender notice (招标公告)")
        INVITATION = "invitation", _("invitation to bid (投标邀请书)")
        CLARIFICATION = "clarification", _("clarification or amendment (澄清/修改)")
        CANCELLATION = "cancellation", _("termination notice (招标终止公告)")
        CANDIDATES = "candidates", _("candidate publicity (中标候选人公示)")
        RESULT = "result", _("award result (中标结果公告)")

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=250)
    body = models.TextField(_("text"))
    sha256 = models.CharField(max_length=64)
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        ordering = ["published_at", "id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self) -> str:
        return self.title


class Document(models.Model):
    """A tender document file (招标文件), issued free of charge; a new upload is a new version."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="documents")
    version = models.PositiveSmallIntegerField(_("version"))
    file = models.FileField(_("file"), upload_to="tender-documents/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["tender", "version"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "version"], name="unique_document_version")
        ]
        verbose_name = _("tender document")
        verbose_name_plural = _("tender documents")

    def __str__(self) -> str:
        return f"{self.filename} v{self.version}"


class DocumentObtainer(models.Model):
    """Who obtained the documents (获取招标文件). Secret until opening (Law art. 22)."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="obtainers")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    obtained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    obtained_at = models.DateTimeField(_("obtained at"))
    digest_salt = models.BinaryField(
        _("salt of the ledger digest"), help_text=_("SHA-256(salt || tender:credit code)")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tender", "organisation"], name="unique_obtainer")
        ]
        verbose_name = _("document obtainer")
        verbose_name_plural = _("document obtainers")

    def __str__(self) -> str:
        return f"{self.organisation_id} @ {self.tender_id}"


class Question(models.Model):
    """A bidder's question; others see it without the asker's name."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="questions")
    asked_by = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("question"))
    asked_at = models.DateTimeField(_("asked at"))
    answered_by = models.ForeignKey(
        "Clarification", on_delete=models.PROTECT, null=True, blank=True, related_name="answers"
    )

    class Meta:
        ordering = ["asked_at"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.text[:40]


class Clarification(models.Model):
    """A clarification or amendment (澄清/修改) sent to everyone who obtained the documents."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="clarifications")
    number = models.PositiveSmallIntegerField(_("number"))
    text = models.TextField(_("text"))
    affects_preparation = models.BooleanField(_("may affect bid preparation"))
    previous_deadline = models.DateTimeField(_("bid deadline before"))
    bid_deadline = models.DateTimeField(_("bid deadline after"))
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["tender", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "number"], name="unique_clarification_number")
        ]
        verbose_name = _("clarification")
        verbose_name_plural = _("clarifications")

    def __str__(self) -> str:
        return f"{self.tender_id}-{self.number}"
