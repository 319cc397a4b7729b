"""Forms of the bidder's pages. They only shape input; the services decide and refuse.

The browser cannot seal a bid: sealing needs the bidder's keys, which stay on the bidder's machine.
``openbid-bidder seal`` writes the envelope ``bid.obenv`` and its sidecar ``bid.obenv.json``; the
bidder chooses both files here. The sidecar holds the commitment and the ciphertext's SHA-256, and
— when sealed with ``--sign`` — the signer's public key, but not the signature over the
commitment message (that names the tender and the bidder, which ``seal`` does not know): the
bidder pastes that signature, or uses ``openbid-bidder submit``, which signs it by itself.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

SEALED_FORMAT = "openbid-sealed-bid/1"  # openbid.bidding.client.SEALED_FORMAT
MAX_SIDECAR_BYTES = 64 * 1024


def envelope_digest(upload: UploadedFile) -> tuple[int, str]:
    """Size and SHA-256 of an uploaded file, read block by block (never whole into memory)."""
    digest = hashlib.sha256()
    size = 0
    for block in upload.chunks():
        digest.update(block)
        size += len(block)
    upload.seek(0)
    return size, digest.hexdigest()


class SubmitBidForm(forms.Form):
    """A sealed envelope and its sidecar, as ``openbid-bidder seal`` wrote them, and the signature
    over the commitment message."""

    envelope = forms.FileField(
        label=_("Sealed envelope (bid.obenv)"),
        help_text=_("The envelope written by openbid-bidder seal. Only ciphertext is sent."),
    )
    sidecar = forms.FileField(
        label=_("Sidecar (bid.obenv.json)"),
        help_text=_("The JSON file seal wrote next to the envelope: commitment and SHA-256."),
    )
    signature = forms.CharField(
        label=_("Signature over the commitment (base64)"),
        max_length=512,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Your signing key's signature over the commitment message shown above."),
    )
    public_key = forms.CharField(
        label=_("Signing public key (base64)"),
        max_length=512,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Leave empty if the envelope was sealed with --sign: the sidecar names it."),
    )

    def __init__(self, *args: Any, section_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section_id = section_id

    def clean_sidecar(self) -> dict[str, Any]:
        upload = self.cleaned_data["sidecar"]
        if upload.size > MAX_SIDECAR_BYTES:
            raise ValidationError(_("This is not a sidecar file: it is too large."))
        try:
            value = json.loads(upload.read())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(_("This is not the JSON sidecar written by seal.")) from exc
        if not isinstance(value, dict) or value.get("format") != SEALED_FORMAT:
            raise ValidationError(_("This is not the JSON sidecar written by seal."))
        for name in ("suite", "commitment", "ciphertext_sha256"):
            if not isinstance(value.get(name), str):
                raise ValidationError(
                    _("The sidecar has no %(name)s: seal the package again.") % {"name": name}
                )
        if self.section_id is not None and value.get("section") != self.section_id:
            raise ValidationError(
                _(
                    "The envelope was sealed for section %(sealed)s, not this one: it would not "
                    "open at the opening. Seal the package again for this section."
                )
                % {"sealed": value.get("section")}
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        envelope, sidecar = cleaned.get("envelope"), cleaned.get("sidecar")
        if envelope is None or not isinstance(sidecar, dict):
            return cleaned
        size, sha256 = envelope_digest(envelope)
        if sha256 != str(sidecar["ciphertext_sha256"]).lower() or (
            "size" in sidecar and sidecar["size"] != size
        ):
            self.add_error(
                "sidecar",
                _(
                    "This sidecar does not belong to this envelope: its ciphertext SHA-256 is "
                    "%(expected)s, the envelope's is %(actual)s."
                )
                % {"expected": sidecar["ciphertext_sha256"], "actual": sha256},
            )
            return cleaned
        cleaned["size"], cleaned["sha256"] = size, sha256
        public_key = (cleaned.get("public_key") or "").strip() or sidecar.get("signer_public_key")
        if not public_key:
            self.add_error(
                "public_key",
                _("The sidecar names no signing key (sealed without --sign): give the public key."),
            )
        cleaned["public_key"] = public_key or ""
        cleaned["signature"] = "".join((cleaned.get("signature") or "").split())
        return cleaned
