"""Admin for deposits and guarantees: everything to look at; changes go through the services."""

from __future__ import annotations

from django.contrib import admin

from openbid.core.admin_site import CentreStaffAdmin
from openbid.deposits.models import (
    BasicAccount,
    CreditLine,
    Guarantee,
    GuaranteeApplication,
    GuaranteeClaim,
    GuaranteeIssuer,
    Refund,
    RefundBatch,
    Statement,
    SubAccount,
)


@admin.register(BasicAccount)
class BasicAccountAdmin(CentreStaffAdmin):
    list_display = ["organisation", "bank_name", "account_number", "sme", "active", "registered_at"]
    search_fields = ["organisation__name", "account_number"]


@admin.register(SubAccount)
class SubAccountAdmin(CentreStaffAdmin):
    list_display = ["number", "section", "organisation", "amount_due", "refund_due_on"]
    search_fields = ["number", "organisation__name"]
    exclude = ["digest_salt"]


@admin.register(Statement)
class StatementAdmin(CentreStaffAdmin):
    list_display = ["id", "bank", "source", "lines_total", "lines_new", "imported_at"]


@admin.register(CreditLine)
class CreditLineAdmin(CentreStaffAdmin):
    list_display = ["bank", "bank_reference", "booked_at", "amount", "payer_account", "match"]
    list_filter = ["match", "bank"]
    search_fields = ["bank_reference", "payer_account", "payee_account", "payer_name"]


@admin.register(Refund)
class RefundAdmin(CentreStaffAdmin):
    list_display = ["id", "line", "reason", "due_on", "status", "interest", "total"]
    list_filter = ["status", "reason"]


@admin.register(RefundBatch)
class RefundBatchAdmin(CentreStaffAdmin):
    list_display = ["id", "value_date", "exported_at"]


@admin.register(GuaranteeIssuer)
class GuaranteeIssuerAdmin(CentreStaffAdmin):
    list_display = ["name", "kind", "credit_code", "suite", "active"]


@admin.register(Guarantee)
class GuaranteeAdmin(CentreStaffAdmin):
    list_display = ["number", "issuer", "section", "organisation", "amount", "valid_until"]


@admin.register(GuaranteeApplication)
class GuaranteeApplicationAdmin(CentreStaffAdmin):
    list_display = ["id", "issuer", "section", "organisation", "amount", "fee", "status"]


@admin.register(GuaranteeClaim)
class GuaranteeClaimAdmin(CentreStaffAdmin):
    list_display = ["id", "guarantee", "amount", "outcome", "claimed_at"]
