"""Credit pages: public credit information, the entity's own view, the staff workspace."""

from django.urls import path

from openbid.credit import views

app_name = "credit"

urlpatterns = [
    path("credit/", views.index, name="index"),
    path("credit/entities/<str:credit_code>/", views.entity, name="entity"),
    path("credit/serious-list.csv", views.export_csv, name="export_csv"),
    path("credit/serious-list.json", views.export_json, name="export_json"),
    path("credit/mine/", views.mine, name="mine"),
    path("credit/records/<int:pk>/", views.record, name="record"),
    path("credit/records/<int:pk>/repair/", views.apply_repair, name="apply_repair"),
    path("credit/records/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("credit/repairs/<int:pk>/", views.repair, name="repair"),
    path("credit/repairs/<int:pk>/accept/", views.accept, name="accept"),
    path("credit/repairs/<int:pk>/decide/", views.decide, name="decide"),
    path("credit/repairs/<int:pk>/evidence/", views.evidence, name="evidence"),
    path("credit/workspace/", views.workspace, name="workspace"),
    path("credit/workspace/records/new/", views.record_new, name="record_new"),
    path("credit/workspace/people/new/", views.person_new, name="person_new"),
    path("credit/workspace/import/", views.import_records, name="import"),
]
