from django.contrib.auth import views as auth_views
from django.urls import path

from openbid.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("register/", views.register, name="register"),
    path("organisations/", views.organisations, name="organisations"),
    path("organisations/mine/", views.my_organisation, name="my_organisation"),
    path("organisations/<str:credit_code>/", views.organisation, name="organisation"),
    path("organisations/<str:credit_code>/people/", views.add_person, name="add_person"),
    path(
        "organisations/<str:credit_code>/<str:action>/",
        views.change_status,
        name="organisation_status",
    ),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("rules/", views.rules_table, name="rules"),
    path("events/", views.events, name="events"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        views.password_change,
        name="password_change",
    ),
]
