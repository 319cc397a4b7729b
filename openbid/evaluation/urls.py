"""Pages of the evaluation: the expert pool, a tender's committee, experts' assignments."""

from django.urls import path

from openbid.evaluation import session_views, views

app_name = "evaluation"

urlpatterns = [
    path("experts/", views.pool, name="pool"),
    path("experts/<int:pk>/", views.expert_detail, name="expert"),
    path("my/assignments/", views.my_assignments, name="my_assignments"),
    path("tenders/<int:pk>/committee/", views.committee_page, name="committee"),
    path("my/clarifications/", session_views.my_clarifications, name="my_clarifications"),
    path("tenders/<int:pk>/evaluation/", session_views.session_page, name="session"),
    path("tenders/<int:pk>/evaluation/blind/", session_views.blind_page, name="blind"),
    path(
        "tenders/<int:pk>/evaluation/blind/<str:code>/<int:n>/",
        session_views.blind_file,
        name="blind_file",
    ),
    path("tenders/<int:pk>/evaluation/report.pdf", session_views.report_pdf, name="report_pdf"),
    path(
        "tenders/<int:pk>/evaluation/<str:action>/",
        session_views.session_action,
        name="session_action",
    ),
    path(
        "tenders/<int:pk>/committee/<str:action>/",
        views.committee_action,
        name="committee_action",
    ),
]
