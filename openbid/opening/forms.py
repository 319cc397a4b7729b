"""Forms of the opening pages. They only shape input; the services decide and refuse."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from openbid.core.errors import DomainError
from openbid.opening.services import parse_data_key

MAX_KEY_FILE_BYTES = 64 * 1024


class ReleaseKeyForm(forms.Form):
    """The data key of one bid: the key file the bidder client wrote, or the key pasted.

    A browser cannot unwrap the data key: that needs the bidder's private encryption key, which
    stays with the bidder (its client, or its CA's key device). The client unwraps it and writes a
    key file; the bidder chooses that file here, or pastes the key in base64.
    """

    key_file = forms.FileField(
        label=_("Data key file"),
        required=False,
        help_text=_("The key file written by the bidder client for this bid."),
    )
    data_key = forms.CharField(
        label=_("or the data key (base64)"),
        required=False,
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, bid_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bid_id = bid_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("key_file")
        text = (cleaned.get("data_key") or "").strip()
        if upload is None and not text:
            raise ValidationError(_("Choose the key file or paste the data key."))
        if upload is not None:
            if upload.size > MAX_KEY_FILE_BYTES:
                raise ValidationError({"key_file": _("This is not a key file: it is too large.")})
            raw: bytes | str = upload.read()
        else:
            raw = text
        try:
            cleaned["key"] = parse_data_key(raw, bid_id=self.bid_id)
        except DomainError as error:
            field = "key_file" if upload is not None else "data_key"
            raise ValidationError({field: str(error)}) from error
        return cleaned


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your objection to the opening"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label=_("Reply"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EscrowShareForm(forms.Form):
    """A custodian's SLIP-0039 share of the tender's escrow key, pasted as words."""

    share = forms.CharField(
        label=_("Your escrow share"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("The words of the share your organisation holds (share-<credit code>.txt)."),
    )


class EscrowRecordForm(forms.Form):
    """The public record of a key escrow, as ``openbid escrow create`` wrote it (escrow.json)."""

    record_file = forms.FileField(label=_("Escrow record (escrow.json)"), required=False)
    record = forms.CharField(
        label=_("or its text"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("record_file")
        text = data.get("record") or ""
        if upload is not None:
            if upload.size > 20000:
                raise ValidationError(_("An escrow record is a small JSON file."))
            text = upload.read().decode("utf-8", "replace")
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if not isinstance(loaded, dict):
            raise ValidationError(
                _("Choose the escrow.json written by “openbid escrow create”, or paste its text.")
            )
        data["parsed"] = loaded
        return data
