"""Bid deposits (投标保证金) and e-guarantees (电子保函): the money bidders put up.

* ``BasicAccount`` — the bank account an organisation registers as its basic account (基本存款账户);
  cash deposits must come from it (Reg art. 26, rule ``deposit_from_basic_account``).
* ``SubAccount`` — the virtual sub-account (虚拟子账号) of one bidder in one section, with the
  amount required and the credit effect that decided it.
* ``Statement`` and ``CreditLine`` — bank statements (imported CSV or a bank's signed webhook) and
  each credit line on them, recorded once per bank reference and matched to a sub-account.
* ``Refund`` and ``RefundBatch`` — each credit line goes back to the account it came from, with
  interest; instructions are exported for the bank in batches and their completion is confirmed.
* ``GuaranteeIssuer``, ``Guarantee``, ``GuaranteeApplication``, ``GuaranteeClaim`` — issuers with
  their certificates, signed guarantees, one-stop applications and claims.

Rows change only through ``openbid.deposits.services`` and ``openbid.deposits.guarantees``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BasicAccount(models.Model):
    """An organisation's registered basic bank account (基本存款账户); one active at a time."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="basic_accounts"
    )
    bank_name = models.CharField(_("bank (branch)"), max_length=120)
    account_name = models.CharField(_("account name"), max_length=200)
    account_number = models.CharField(_("account number"), max_length=34)
    sme = models.BooleanField(
        _("small or medium enterprise (中小企业声明)"),
        default=False,
        help_text=_("declared by the organisation; SMEs may be exempt from bid deposits"),
    )
    active = models.BooleanField(_("active"), default=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"))
    replaced_at = models.DateTimeField(_("replaced at"), null=True, blank=True)

    class Meta:
        ordering = ["organisation", "-registered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(active=True),
                name="one_active_basic_account",
            )
        ]
        verbose_name = _("basic bank account")
        verbose_name_plural = _("basic bank accounts")

    def __str__(self) -> str:
        return f"{self.bank_name} {self.account_number}"


class SubAccount(models.Model):
    """The virtual sub-account (虚拟子账号) of one bidder in one section, and what it must hold."""

    class Via(models.TextChoices):
        OBTAINED = "obtained", _("opened when the documents were obtained")
        ON_DEMAND = "on_demand", _("opened from the bidder's page")

    class RefundBasis(models.TextChoices):
        NONE = "", _("not released yet")
        RESULT = "result", _("unsuccessful: released by the result")
        CONTRACT = "contract", _("successful: released by the signed contract")

    section = models.ForeignKey(
        "tendering.Section", on_delete=models.PROTECT, related_name="deposit_accounts"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="deposit_accounts"
    )
    number = models.CharField(_("sub-account number"), max_length=34, unique=True)
    via = models.CharField(_("opened"), max_length=12, choices=Via.choices)
    opened_at = models.DateTimeField(_("opened at"))
    # The requirement: the section's deposit reduced by the credit effects (openbid.credit.effects).
    base_amount = models.DecimalField(_("section deposit (yuan)"), max_digits=14, decimal_places=2)
    amount_due = models.DecimalField(_("amount required (yuan)"), max_digits=14, decimal_places=2)
    reduction_percent = models.DecimalField(
        _("reduction (%)"), max_digits=6, decimal_places=2, default=0
    )
    credit_grade = models.CharField(_("credit grade"), max_length=8, blank=True)
    reduction_reason = models.CharField(_("reduction reason"), max_length=20, blank=True)
    policy_region = models.CharField(_("policy region"), max_length=6, blank=True)
    policy_basis = models.TextField(_("basis of the reduction"), blank=True)
    sme = models.BooleanField(_("SME declared"), default=False)
    assessed_on = models.DateField(_("assessed on"))
    digest_salt = models.BinaryField(_("salt of the ledger digest"))
    # Released for refund: by the result (unsuccessful bidders) or the contract (the winner).
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    refund_basis = models.CharField(
        _("released by"), max_length=10, choices=RefundBasis.choices, blank=True, default=""
    )
    refund_due_on = models.DateField(_("refund due on"), null=True, blank=True)
    refund_rule = models.CharField(_("refund rule"), max_length=60, blank=True)

    class Meta:
        ordering = ["section", "opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "organisation"], name="one_sub_account_per_bidder"
            )
        ]
        verbose_name = _("deposit sub-account")
        verbose_name_plural = _("deposit sub-accounts")

    def __str__(self) -> str:
        return self.number


class Statement(models.Model):
    """One delivery of bank credit lines: an imported CSV statement or a webhook call."""

    class Source(models.TextChoices):
        CSV = "csv", _("imported statement (CSV)")
        WEBHOOK = "webhook", _("bank webhook")

    bank = models.CharField(_("bank code"), max_length=20)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)
    lines_total = models.PositiveIntegerField(_("lines"), default=0)
    lines_new = models.PositiveIntegerField(_("new lines"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(_("received at"))

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")

    def __str__(self) -> str:
        return f"{self.bank} {self.source} {self.imported_at:%Y-%m-%d %H:%M}"


class WebhookDelivery(models.Model):
    """A signed webhook call accepted once: the same signature again is a replay."""

    bank = models.CharField(max_length=20)
    signature = models.CharField(max_length=64, unique=True)
    timestamp = models.BigIntegerField()
    received_at = models.DateTimeField()
    statement = models.OneToOneField(Statement, on_delete=models.PROTECT, related_name="delivery")

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.bank} {self.timestamp}"


class CreditLine(models.Model):
    """A credit to the deposit account, recorded once per (bank, bank reference) and matched."""

    class Match(models.TextChoices):
        ACCEPTED = "accepted", _("counts as the deposit")
        LATE = "late", _("arrived after the bid deadline")
        WRONG_PAYER = "wrong_payer", _("not from the bidder's basic account")
        NO_BASIC_ACCOUNT = "no_basic_account", _("the bidder has registered no basic account")
        NOT_ACCEPTED = "not_accepted", _("the tender takes no cash deposit")
        UNMATCHED = "unmatched", _("no such sub-account")

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines")
    bank = models.CharField(_("bank code"), max_length=20)
    bank_reference = models.CharField(_("bank reference"), max_length=64)
    booked_at = models.DateTimeField(_("booked at"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    payee_account = models.CharField(_("sub-account number credited"), max_length=34)
    payer_account = models.CharField(_("payer account"), max_length=34, db_index=True)
    payer_name = models.CharField(_("payer name"), max_length=200)
    payer_bank = models.CharField(_("payer bank"), max_length=120, blank=True)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    sub_account = models.ForeignKey(
        SubAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    match = models.CharField(_("match"), max_length=20, choices=Match.choices)
    detail = models.JSONField(_("match detail"), default=dict, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["booked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "bank_reference"], name="unique_bank_reference")
        ]
        verbose_name = _("credit line")
        verbose_name_plural = _("credit lines")

    def __str__(self) -> str:
        return f"{self.bank}:{self.bank_reference} {self.amount}"


class RefundBatch(models.Model):
    """Refund instructions exported for the bank at once (a documented CSV)."""

    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    exported_at = models.DateTimeField(_("exported at"))
    value_date = models.DateField(_("value date"))
    csv = models.TextField(_("instructions (CSV)"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-exported_at", "-id"]
        verbose_name = _("refund batch")
        verbose_name_plural = _("refund batches")

    def __str__(self) -> str:
        return f"batch {self.pk} {self.value_date}"


class Refund(models.Model):
    """One credit line going back to the account it came from, with interest for the days held."""

    class Status(models.TextChoices):
        PENDING = "pending", _("due, not yet instructed")
        EXPORTED = "exported", _("instructed to the bank")
        COMPLETED = "completed", _("completed")

    class Reason(models.TextChoices):
        RESULT = "result", _("unsuccessful bidder, after the result")
        CONTRACT = "contract", _("successful bidder, after the contract")
        NOT_COUNTED = "not_counted", _("payment that does not count as the deposit")

    line = models.OneToOneField(CreditLine, on_delete=models.PROTECT, related_name="refund")
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    rule = models.CharField(_("rule"), max_length=60)
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created at"))
    batch = models.ForeignKey(
        RefundBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    value_date = models.DateField(_("value date"), null=True, blank=True)
    interest_days = models.PositiveIntegerField(_("days held"), null=True, blank=True)
    interest_rate = models.DecimalField(
        _("annual rate (%)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    day_basis = models.PositiveSmallIntegerField(_("day-count basis"), null=True, blank=True)
    interest = models.DecimalField(
        _("interest (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    total = models.DecimalField(
        _("amount refunded (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    bank_reference = models.CharField(_("bank reference of the refund"), max_length=64, blank=True)
    overdue_warned_at = models.DateTimeField(_("overdue warning at"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")

    def __str__(self) -> str:
        return f"refund {self.pk} {self.line.amount}"


class DepositFinding(models.Model):
    """The deposit status of a bid as found at the opening (for the opening and evaluation)."""

    bid = models.OneToOneField("bidding.Bid", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20)
    reasons = models.JSONField(_("reasons"), default=list)
    checked_at = models.DateTimeField(_("checked at"))

    class Meta:
        verbose_name = _("deposit finding")
        verbose_name_plural = _("deposit findings")

    def __str__(self) -> str:
        return f"{self.bid_id}: {self.status}"


# --- e-guarantees -----------------------------------------------------------------------------


class GuaranteeIssuer(models.Model):
    """A bank, guarantor or insurer whose e-guarantees the platform accepts, with its certificate."""

    class Kind(models.TextChoices):
        BANK = "bank", _("bank (银行保函)")
        GUARANTOR = "guarantor", _("guarantee company (担保保函)")
        INSURER = "insurer", _("insurer (保证保险)")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    certificate_pem = models.TextField(_("signing certificate (PEM)"))
    intermediates_pem = models.TextField(_("intermediate CA certificates (PEM)"), blank=True)
    fingerprint = models.CharField(_("certificate fingerprint (SHA-256)"), max_length=64)
    suite = models.CharField(_("crypto suite"), max_length=20)
    public_key = models.TextField(_("public key (base64)"))
    api_url = models.CharField(
        _("issuer API"),
        max_length=300,
        blank=True,
        help_text=_("https://… of the issuer's guarantee API, or builtin:test for the test issuer"),
    )
    fee_percent = models.DecimalField(
        _("fee (per cent of the amount)"), max_digits=6, decimal_places=3, default=0
    )
    active = models.BooleanField(_("active"), default=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("guarantee issuer")
        verbose_name_plural = _("guarantee issuers")

    def __str__(self) -> str:
        return self.name


class GuaranteeApplication(models.Model):
    """A bidder's one-stop application: apply → pay the fee → receive the guarantee and invoice."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("applied, fee not paid")
        PAID = "paid", _("fee paid")
        ISSUED = "issued", _("guarantee issued")
        FAILED = "failed", _("refused by the issuer")

    section = models.ForeignKey("tendering.Section", on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    issuer = models.ForeignKey(
        GuaranteeIssuer, on_delete=models.PROTECT, related_name="applications"
    )
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    fee = models.DecimalField(_("fee (yuan)"), max_digits=14, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.APPLIED
    )
    request_note = models.TextField(_("signed application (note)"))
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(_("applied at"))
    paid_at = models.DateTimeField(_("fee paid at"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=64, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    failure = models.TextField(_("issuer's refusal"), blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=64, blank=True)
    invoice_amount = models.DecimalField(
        _("invoice amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    invoice_issued_on = models.DateField(_("invoice date"), null=True, blank=True)

    class Meta:
        ordering = ["-applied_at", "-id"]
        verbose_name = _("guarantee application")
        verbose_name_plural = _("guarantee applications")

    def __str__(self) -> str:
        return f"application {self.pk}"


class Guarantee(models.Model):
    """A signed e-guarantee (电子保函) bound to a tender, section, bidder, amount and validity."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("registered")
        CLAIMED = "claimed", _("claimed")

    issuer = models.ForeignKey(GuaranteeIssuer, on_delete=models.PROTECT, related_name="guarantees")
    number = models.CharField(_("guarantee number"), max_length=64)
    section = models.ForeignKey(
        "tendering.Section", on_delete=models.PROTECT, related_name="guarantees"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="guarantees"
    )
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    document = models.TextField(_("guarantee (canonical JSON)"))
    signature = models.TextField(_("issuer's signature (base64)"))
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED
    )
    application = models.OneToOneField(
        GuaranteeApplication,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="guarantee",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"))

    class Meta:
        ordering = ["-registered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "number"], name="unique_guarantee_number")
        ]
        verbose_name = _("e-guarantee")
        verbose_name_plural = _("e-guarantees")

    def __str__(self) -> str:
        return self.number


class GuaranteeClaim(models.Model):
    """A claim on a guarantee by the tenderer (with its reason) and the issuer's answer."""

    class Outcome(models.TextChoices):
        OPEN = "open", _("awaiting the issuer's answer")
        PAID = "paid", _("paid by the issuer")
        REFUSED = "refused", _("refused by the issuer")

    guarantee = models.ForeignKey(Guarantee, on_delete=models.PROTECT, related_name="claims")
    claimed_by = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount claimed (yuan)"), max_digits=14, decimal_places=2)
    reason = models.TextField(_("reason"))
    claimed_at = models.DateTimeField(_("claimed at"))
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.OPEN
    )
    answer = models.TextField(_("issuer's answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        verbose_name = _("guarantee claim")
        verbose_name_plural = _("guarantee claims")

    def __str__(self) -> str:
        return f"claim {self.pk}"
