"""The transparency log's storage.

``Entry`` holds one leaf per domain event, in log order, with its hash; ``Node`` holds the hashes
of the perfect subtrees whose level is a multiple of 8, i.e. exactly the hashes of the C2SP
tlog-tiles above level 0 (level-0 tiles are the entries' leaf hashes). Every other node a proof
needs is recomputed from at most 128 hashes of one tile. ``LedgerState`` is one row: the log size,
locked by every append so indexes are gapless. Checkpoints and cosignatures are kept forever.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerState(models.Model):
    size = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("ledger state")

    def __str__(self) -> str:
        return f"size {self.size}"


class Entry(models.Model):
    """Leaf ``index``: the canonical JSON (RFC 8785) of one domain event."""

    index = models.BigIntegerField(primary_key=True)
    event = models.OneToOneField(
        "core.DomainEvent", on_delete=models.PROTECT, related_name="ledger_entry"
    )
    leaf = models.BinaryField()
    leaf_hash = models.BinaryField()

    class Meta:
        ordering = ["index"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self) -> str:
        return f"entry {self.index}"


class Node(models.Model):
    """A perfect subtree hash at a level divisible by 8 (a hash of a tile above level 0)."""

    pk = models.CompositePrimaryKey("level", "index")
    level = models.SmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField()

    class Meta:
        verbose_name = _("tree node")

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class Checkpoint(models.Model):
    """A signed tree head (C2SP tlog-checkpoint), with every cosignature collected since."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField()
    body = models.TextField(_("checkpoint body"))
    note = models.TextField(_("signed note"))
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        ordering = ["size"]
        get_latest_by = "size"
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Witness(models.Model):
    """Another log operator or platform that cosigns our checkpoints (C2SP tlog-witness)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    url = models.URLField(_("witness URL"), help_text=_("the prefix that add-checkpoint is under"))
    verifier_key = models.CharField(_("verifier key"), max_length=400)
    active = models.BooleanField(_("active"), default=True)
    last_size = models.BigIntegerField(_("last cosigned size"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness_name = models.CharField(max_length=200)
    key_id = models.BigIntegerField()
    timestamp = models.BigIntegerField()
    line = models.TextField(_("signature line"))
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness_name", "key_id"], name="unique_cosignature"
            )
        ]

    def __str__(self) -> str:
        return f"{self.witness_name} on {self.checkpoint_id}"


class WitnessedLog(models.Model):
    """A log this platform witnesses: the latest checkpoint it cosigned (check-and-persist)."""

    origin = models.CharField(_("origin"), max_length=200, unique=True)
    verifier_keys = models.TextField(_("verifier keys, one per line"))
    size = models.BigIntegerField(default=0)
    root_hash = models.BinaryField(default=b"")
    checkpoint = models.TextField(blank=True)
    updated_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("witnessed log")
        verbose_name_plural = _("witnessed logs")

    def __str__(self) -> str:
        return self.origin
