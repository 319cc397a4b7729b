"""Disputes pages: cases of each party, the regulator's handling, letters, published decisions."""

from django.urls import path

from openbid.disputes import views

app_name = "disputes"

urlpatterns = [
    path("disputes/", views.index, name="index"),
    path("disputes/tenders/<int:pk>/objection/", views.objection_new, name="objection_new"),
    path("disputes/tenders/<int:pk>/complaint/", views.complaint_new, name="complaint_new"),
    path("disputes/objections/<int:pk>/", views.objection, name="objection"),
    path("disputes/objections/<int:pk>/reply/", views.objection_reply, name="objection_reply"),
    path("disputes/complaints/<int:pk>/", views.complaint, name="complaint"),
    path("disputes/complaints/<int:pk>/act/<str:action>/", views.complaint_act, name="act"),
    path("disputes/requests/<int:pk>/reply/", views.request_reply, name="request_reply"),
    path("disputes/letters/<str:case>/<int:pk>/<str:kind>/", views.letter, name="letter"),
    path("disputes/decisions/", views.decisions, name="decisions"),
    path("disputes/decisions/<int:pk>/", views.decision, name="decision"),
    path("disputes/feedback/", views.feedback, name="feedback"),
    path("disputes/feedback/<int:pk>/", views.feedback_detail, name="feedback_detail"),
    path("disputes/responsibilities/", views.responsibilities, name="responsibilities"),
    path("disputes/figures/", views.figures, name="figures"),
]
