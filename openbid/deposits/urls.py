"""Deposit and guarantee pages: the bidder's, and the trading centre staff's."""

from django.urls import path

from openbid.deposits import views

app_name = "deposits"

urlpatterns = [
    path("deposits/", views.mine, name="mine"),
    path("deposits/basic-account/", views.basic_account, name="basic_account"),
    path("deposits/sections/<int:pk>/open/", views.open_sub_account, name="open"),
    path("deposits/guarantees/register/", views.register_guarantee, name="register_guarantee"),
    path("deposits/guarantees/apply/", views.apply, name="apply"),
    path("deposits/applications/<int:pk>/pay/", views.pay, name="pay"),
    path("deposits/applications/<int:pk>/issue/", views.issue, name="issue"),
    path("deposits/staff/", views.staff, name="staff"),
    path("deposits/staff/import/", views.staff_import, name="staff_import"),
    path("deposits/staff/export/", views.staff_export, name="staff_export"),
    path("deposits/staff/batches/<int:pk>.csv", views.batch_csv, name="batch_csv"),
    path("deposits/staff/confirmations/", views.staff_confirmations, name="staff_confirmations"),
]
