from django.contrib import admin

from openbid.award.models import Contract, Decision, Publicity, WrittenReport
from openbid.core.admin_site import CentreStaffAdmin


@admin.register(Publicity)
class PublicityAdmin(CentreStaffAdmin):
    """Read-only: the award changes only through its services (with ledger events)."""

    list_display = ("tender", "section", "published_at", "ends_at")


@admin.register(Decision)
class DecisionAdmin(CentreStaffAdmin):
    list_display = ("publicity", "method", "status", "decided_at")
    list_filter = ("method", "status")


@admin.register(WrittenReport)
class WrittenReportAdmin(CentreStaffAdmin):
    list_display = ("tender", "due_at", "filed_at", "late")
    list_filter = ("late",)


@admin.register(Contract)
class ContractAdmin(CentreStaffAdmin):
    list_display = ("number", "tenderer", "winner", "due_at", "signed_at", "late")
    list_filter = ("late",)
