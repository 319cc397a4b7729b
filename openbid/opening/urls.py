"""Opening pages: the opening room (everyone signed in) and the published opening record."""

from django.urls import path

from openbid.opening import views

app_name = "opening"

urlpatterns = [
    path("tenders/<int:pk>/opening/", views.room, name="room"),
    path("tenders/<int:pk>/opening/live/", views.live, name="live"),
    path("tenders/<int:pk>/opening/bids/<int:bid_pk>/release/", views.release, name="release"),
    path("tenders/<int:pk>/opening/objections/", views.objection, name="objection"),
    path(
        "tenders/<int:pk>/opening/objections/<int:objection_pk>/reply/",
        views.reply,
        name="reply",
    ),
    path("tenders/<int:pk>/opening/sign/", views.sign, name="sign"),
    path("tenders/<int:pk>/opening/escrow-share/", views.give_share, name="give_share"),
    path("tenders/<int:pk>/escrow.pub", views.escrow_key, name="escrow_key"),
    path("tenders/<int:pk>/escrow/", views.register_escrow, name="register_escrow"),
    path("tenders/<int:pk>/opening/record/", views.record, name="record"),
    path("tenders/<int:pk>/opening/record.txt", views.record_note, name="record_note"),
]
