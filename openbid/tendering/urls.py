"""Tendering pages: public notices, plans and the flowchart; staff pages for projects and tenders."""

from django.urls import path

from openbid.tendering import views

app_name = "tendering"

urlpatterns = [
    # Public service platform
    path("tenders/", views.tender_list, name="tenders"),
    path("tenders/<int:pk>/", views.tender, name="tender"),
    path("tenders/<int:pk>/questions/", views.questions, name="questions"),
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("notices/<int:pk>/text/", views.notice_text, name="notice_text"),
    path("plans/", views.plan_list, name="plans"),
    path("flowchart/", views.flowchart_page, name="flowchart"),
    # Bidders
    path("tenders/<int:pk>/obtain/", views.obtain, name="obtain"),
    path("tenders/<int:pk>/documents/<int:doc_pk>/", views.document, name="document"),
    # Tenderers and agencies
    path("projects/", views.project_list, name="projects"),
    path("projects/new/", views.project_new, name="project_new"),
    path("projects/<int:pk>/", views.project, name="project"),
    path("projects/<int:pk>/plans/", views.plan_new, name="plan_new"),
    path("projects/<int:pk>/tenders/new/", views.tender_new, name="tender_new"),
    path("tenders/sections/row/", views.section_row, name="section_row"),
    path("tenders/<int:pk>/edit/", views.tender_edit, name="tender_edit"),
    path("tenders/<int:pk>/documents/", views.upload, name="upload"),
    path("tenders/<int:pk>/publish/", views.publish, name="publish"),
    path("tenders/<int:pk>/clarify/", views.clarify, name="clarify"),
    path("tenders/<int:pk>/cancel/", views.cancel, name="cancel"),
]
