"""Public ledger URLs: the C2SP tlog-tiles layout, the witness endpoint, and the explorer."""

from django.urls import path, re_path

from openbid.ledger import views, witness

app_name = "ledger"

urlpatterns = [
    path("", views.explorer, name="explorer"),
    path("checkpoint", views.checkpoint, name="checkpoint"),
    re_path(
        r"^tile/entries/(?P<path>[x0-9/]+(?:\.p/[0-9]+)?)$", views.entry_bundle, name="entries"
    ),
    re_path(r"^tile/(?P<level>[0-9]+)/(?P<path>[x0-9/]+(?:\.p/[0-9]+)?)$", views.tile, name="tile"),
    path("witness/add-checkpoint", witness.add_checkpoint_view, name="add_checkpoint"),
]
