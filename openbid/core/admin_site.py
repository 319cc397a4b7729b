"""The admin is for trading-centre staff: their role, not Django's staff flag, opens it.

Model admins built on ``CentreStaffAdmin`` let centre staff view everything and change only what
the admin routes through services (each admin says which).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def is_centre_staff(request: HttpRequest) -> bool:
    from openbid.accounts.permissions import has_role
    from openbid.accounts.roles import Role

    user = request.user
    return bool(user.is_active and (user.is_superuser or has_role(user, Role.CENTRE_STAFF)))


class CentreAdminSite(admin.AdminSite):
    site_header = _("openbid administration")
    site_title = _("openbid administration")

    def has_permission(self, request: HttpRequest) -> bool:
        return is_centre_staff(request)


class CentreStaffAdmin(admin.ModelAdmin):
    """View for centre staff; no add, change or delete unless a subclass routes it via services."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_centre_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_centre_staff(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CentreAdminConfig(AdminConfig):
    """Installs ``CentreAdminSite`` as the default admin site."""

    default_site = "openbid.core.admin_site.CentreAdminSite"
