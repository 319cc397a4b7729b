"""Admin for disputes: everything to look at; changes go through the disputes pages (services)."""

from __future__ import annotations

from django.contrib import admin

from openbid.core.admin_site import CentreStaffAdmin
from openbid.disputes.models import (
    Alert,
    Complaint,
    Feedback,
    Objection,
    ResponsibilityEntry,
    Suspension,
    Timer,
)


@admin.register(ResponsibilityEntry)
class ResponsibilityEntryAdmin(CentreStaffAdmin):
    list_display = ["region_code", "industry", "regulator", "active", "created_at"]
    list_filter = ["active", "industry"]


@admin.register(Objection)
class ObjectionAdmin(CentreStaffAdmin):
    list_display = ["id", "tender", "matter", "status", "raised_at", "reply_due", "replied_at"]
    list_filter = ["matter", "status"]


@admin.register(Complaint)
class ComplaintAdmin(CentreStaffAdmin):
    list_display = ["id", "tender", "matter", "regulator", "status", "filed_at", "decided_at"]
    list_filter = ["matter", "status", "outcome"]


@admin.register(Suspension)
class SuspensionAdmin(CentreStaffAdmin):
    list_display = ["id", "tender", "objection", "complaint", "started_at", "released_at"]


@admin.register(Timer)
class TimerAdmin(CentreStaffAdmin):
    list_display = ["case", "case_id", "step", "started_at", "target_at", "due_at", "done_at"]
    list_filter = ["case", "step"]


@admin.register(Alert)
class AlertAdmin(CentreStaffAdmin):
    list_display = ["timer", "kind", "to", "at"]


@admin.register(Feedback)
class FeedbackAdmin(CentreStaffAdmin):
    list_display = ["id", "kind", "subject", "submitted_at", "answer_due", "answered_at"]
