from django.contrib import admin

from openbid.core.admin_site import CentreStaffAdmin
from openbid.evaluation.models import Committee, CommitteeMember, Expert, Recusal


@admin.register(Expert)
class ExpertAdmin(CentreStaffAdmin):
    """Read-only: the pool changes on the expert pool pages (services with ledger events)."""

    list_display = ("name", "employer", "region_code", "status", "admitted_at")
    list_filter = ("status",)
    search_fields = ("name",)
    exclude = ("id_digest",)


@admin.register(Committee)
class CommitteeAdmin(CentreStaffAdmin):
    list_display = ("tender", "evaluation_date", "expert_seats", "representative_seats", "status")
    list_filter = ("status",)


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(CentreStaffAdmin):
    list_display = ("committee", "kind", "expert", "user", "group", "status")
    list_filter = ("kind", "status")


@admin.register(Recusal)
class RecusalAdmin(CentreStaffAdmin):
    list_display = ("committee", "draw", "expert", "reason", "detail")
    list_filter = ("reason",)
