"""How refusals name the credit fields (registered into ``openbid.core.fields`` at start-up)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

CREDIT_FIELD_LABELS: dict[str, Any] = {
    "subject": _("subject of the record"),
    "category": _("category"),
    "facts": _("facts"),
    "legal_basis": _("legal basis"),
    "issuing_body": _("issuing body"),
    "document_number": _("decision document number"),
    "decided_on": _("decision date"),
    "valid_from": _("start of the validity period"),
    "valid_until": _("end of the validity period"),
    "serious_list": _("serious-dishonesty list"),
    "statement": _("statement of rectification"),
    "evidence": _("evidence"),
    "person_name": _("person's name"),
    "id_number": _("resident identity card number"),
    "external_id": _("record number on the external platform"),
    "source_platform": _("external platform"),
    "records": _("records"),
    "record": _("credit record"),
    "application": _("repair application"),
    "decision": _("decision"),
}
