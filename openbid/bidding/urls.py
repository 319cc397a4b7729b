"""The bidder's pages: my bids, submitting a sealed bid to a section, withdrawing it."""

from django.urls import path

from openbid.bidding import views

app_name = "bidding"

urlpatterns = [
    path("bids/", views.my_bids, name="my_bids"),
    path("bids/sections/<int:pk>/", views.submit, name="submit"),
    path("bids/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
