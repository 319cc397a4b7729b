"""Admin views of organisations and people for centre staff.

Read-only except through actions that call the services, so the admin is not a side door around
the role checks and the event record.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from openbid.accounts import services
from openbid.accounts.models import ApiToken, Membership, Organisation, User
from openbid.core.admin_site import CentreStaffAdmin, is_centre_staff
from openbid.core.errors import DomainError


@admin.action(description=_("Verify the selected organisations"))
def verify(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> None:
    for org in queryset:
        try:
            services.verify_organisation(request.user, org, note=str(_("verified in the admin")))
        except DomainError as error:
            modeladmin.message_user(request, f"{org}: {error}", messages.ERROR)


@admin.register(Organisation)
class OrganisationAdmin(CentreStaffAdmin):
    list_display = ["name", "credit_code", "org_type", "region_code", "status", "registered_at"]
    list_filter = ["org_type", "status"]
    search_fields = ["name", "credit_code"]
    actions = [verify]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The list needs it for the verify action; single rows stay read-only.
        return obj is None and is_centre_staff(request)


@admin.register(Membership)
class MembershipAdmin(CentreStaffAdmin):
    list_display = ["user", "organisation", "role", "is_admin", "active"]
    list_filter = ["role", "active"]
    search_fields = ["user__username", "organisation__name"]


@admin.register(User)
class UserAdmin(CentreStaffAdmin):
    list_display = ["username", "display_name", "is_active", "last_login"]
    search_fields = ["username", "display_name"]
    exclude = ["password"]


@admin.register(ApiToken)
class ApiTokenAdmin(CentreStaffAdmin):
    list_display = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
