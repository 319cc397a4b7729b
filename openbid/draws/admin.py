from django.contrib import admin

from openbid.core.admin_site import CentreStaffAdmin
from openbid.draws.models import Draw


@admin.register(Draw)
class DrawAdmin(CentreStaffAdmin):
    list_display = ("id", "purpose", "subject_kind", "subject_id", "status", "created_at")
    list_filter = ("purpose", "status")
    exclude = ("snapshot", "result")
