"""Admin for credit: everything to look at; changes go through the credit workspace (services)."""

from __future__ import annotations

from django.contrib import admin

from openbid.core.admin_site import CentreStaffAdmin
from openbid.credit.models import CreditRecord, CreditSubject, Notification, RepairApplication


@admin.register(CreditSubject)
class CreditSubjectAdmin(CentreStaffAdmin):
    list_display = ["id", "kind", "organisation", "person_name", "created_at"]
    exclude = ["person_digest"]


@admin.register(CreditRecord)
class CreditRecordAdmin(CentreStaffAdmin):
    list_display = [
        "id",
        "subject",
        "source",
        "category",
        "serious_list",
        "valid_from",
        "valid_until",
        "status",
    ]
    list_filter = ["source", "category", "status", "serious_list", "is_public"]
    search_fields = [
        "title",
        "document_number",
        "subject__organisation__name",
        "subject__organisation__credit_code",
    ]


@admin.register(RepairApplication)
class RepairApplicationAdmin(CentreStaffAdmin):
    list_display = ["id", "record", "status", "submitted_at", "decided_at"]
    list_filter = ["status"]


@admin.register(Notification)
class NotificationAdmin(CentreStaffAdmin):
    list_display = ["id", "organisation", "user", "kind", "created_at"]
