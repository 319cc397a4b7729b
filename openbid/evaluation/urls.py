"""Pages of the evaluation: the expert pool, a tender's committee, experts' assignments."""

from django.urls import path

from openbid.evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("experts/", views.pool, name="pool"),
    path("experts/<int:pk>/", views.expert_detail, name="expert"),
    path("my/assignments/", views.my_assignments, name="my_assignments"),
    path("tenders/<int:pk>/committee/", views.committee_page, name="committee"),
    path(
        "tenders/<int:pk>/committee/<str:action>/",
        views.committee_action,
        name="committee_action",
    ),
]
