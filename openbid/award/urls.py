"""Award pages: candidates, decision, notices, contracts, written reports, templates."""

from django.urls import path

from openbid.award import views

app_name = "award"

urlpatterns = [
    path("tenders/<int:pk>/award/", views.tender_award, name="tender"),
    path("tenders/<int:pk>/award/suspend/", views.suspend, name="suspend"),
    path("tenders/<int:pk>/award/report/", views.file_report, name="file_report"),
    path("award/publicities/<int:pk>/decide/", views.decide, name="decide"),
    path("award/decisions/<int:pk>/notices/", views.prepare_notices, name="prepare_notices"),
    path("award/decisions/<int:pk>/contract/", views.draft_contract, name="draft_contract"),
    path("award/notices/", views.my_notices, name="my_notices"),
    path("award/notices/<int:pk>/", views.notice, name="notice"),
    path("award/notices/<int:pk>/sign/", views.sign_notice, name="sign_notice"),
    path("award/contracts/", views.contracts, name="contracts"),
    path("award/contracts/<int:pk>/", views.contract, name="contract"),
    path("award/contracts/<int:pk>/<slug:action>/", views.contract_action, name="contract_action"),
    path("award/reports/", views.reports, name="reports"),
    path("award/reports/<int:pk>/", views.report, name="report"),
    path("award/templates/", views.templates, name="templates"),
]
