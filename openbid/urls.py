from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from openbid.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("ledger/", include("openbid.ledger.urls")),
    path("", include("openbid.tendering.urls")),
    path("", include("openbid.opening.urls")),
    path("", include("openbid.bidding.urls")),
    path("", include("openbid.credit.urls")),
    path("", include("openbid.evaluation.urls")),
    path("", include("openbid.disputes.urls")),
    path("", include("openbid.deposits.urls")),
    path("", include("openbid.award.urls")),
    path("", include("openbid.accounts.urls")),
]
