"""Hooks into other contexts without changing them: a bidder that obtains the documents of a
tender taking cash deposits gets its sub-accounts at once (in the same transaction)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from openbid.tendering.models import DocumentObtainer


@receiver(post_save, sender=DocumentObtainer, dispatch_uid="deposits.open_on_obtaining")
def _obtained(sender: Any, instance: DocumentObtainer, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        from openbid.deposits.services import open_on_obtaining

        open_on_obtaining(instance)
