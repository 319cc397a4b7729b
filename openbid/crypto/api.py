"""API for trusted CAs, CRLs and people's certificates (CA 互认). Thin: changes go through
:mod:`openbid.crypto.services`.

Public: the list of recognised CAs (``GET /trust/cas``) and an organisation's active certificates
by fingerprint and validity (``GET /organisations/{credit_code}/certificates``) — never the
subject, which names a person. Centre staff add CAs and CRLs; a person registers and lists their
own certificates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import signed_in
from openbid.core.api_auth import PUBLIC
from openbid.crypto import document_signatures, services
from openbid.crypto.models import (
    DocumentSignature,
    PersonCertificate,
    RevocationList,
    TrustedCA,
)

router = Router(tags=["certificates"])


class TrustedCAOut(Schema):
    id: int
    name: str
    region_code: str
    kind: str
    fingerprint: str
    subject: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    active: bool
    certificate_pem: str


class TrustedCAIn(Schema):
    name: str = Field(..., max_length=200)
    region_code: str = Field(..., max_length=6)
    certificate_pem: str = Field(..., max_length=services.MAX_CERTIFICATE_CHARS)


class DeactivateIn(Schema):
    reason: str = Field("", max_length=500)


class CrlIn(Schema):
    crl: str = Field(..., description="The CRL as PEM, or its DER in base64.")


class CrlOut(Schema):
    id: int
    ca: int = Field(..., alias="ca_id")
    sha256: str
    number: str
    this_update: dt.datetime
    next_update: dt.datetime
    revoked_count: int
    uploaded_at: dt.datetime


class CertificateIn(Schema):
    certificate_pem: str = Field(..., max_length=services.MAX_CERTIFICATE_CHARS)
    purpose: str = Field(..., description="signing or encryption")
    intermediates_pem: list[str] = Field(
        default_factory=list, description="Intermediate CA certificates the chain needs (PEM)."
    )


class CertificateOut(Schema):
    id: int
    organisation: str = Field(..., alias="organisation.credit_code")
    purpose: str
    status: str
    fingerprint: str
    suite: str
    key_type: str
    public_key: str
    serial: str
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    registered_at: dt.datetime
    certificate_pem: str


class PublicCertificateOut(Schema):
    fingerprint: str
    purpose: str
    not_before: dt.datetime
    not_after: dt.datetime


@router.get(
    "/trust/cas",
    response=list[TrustedCAOut],
    auth=PUBLIC,
    summary="The CAs the platform recognises (CA 互认)",
)
def list_trusted_cas(request: HttpRequest, include_inactive: bool = False) -> Any:
    """Every active trusted CA (roots and issuing CAs), with its certificate, so other platforms
    and bidders' tools can see which CAs are recognised."""
    qs = TrustedCA.objects.order_by("region_code", "name", "id")
    return qs if include_inactive else qs.filter(active=True)


@router.post("/trust/cas", response={201: TrustedCAOut}, summary="Add a trusted CA (centre staff)")
def add_trusted_ca(request: HttpRequest, payload: TrustedCAIn) -> Status[TrustedCA]:
    return Status(201, services.add_trusted_ca(request.user, **payload.dict()))


@router.post(
    "/trust/cas/{ca_id}/deactivate",
    response=TrustedCAOut,
    summary="Withdraw recognition of a CA (centre staff)",
)
def deactivate_trusted_ca(request: HttpRequest, ca_id: int, payload: DeactivateIn) -> TrustedCA:
    ca = get_object_or_404(TrustedCA, pk=ca_id)
    return services.deactivate_trusted_ca(request.user, ca, reason=payload.reason)


@router.post(
    "/trust/cas/{ca_id}/crls",
    response={201: CrlOut},
    summary="Upload a CRL of a trusted CA (centre staff)",
)
def add_crl(request: HttpRequest, ca_id: int, payload: CrlIn) -> Status[RevocationList]:
    ca = get_object_or_404(TrustedCA, pk=ca_id)
    return Status(201, services.add_crl(request.user, ca=ca, crl_pem_or_der=payload.crl))


@router.post(
    "/certificates", response={201: CertificateOut}, summary="Register your own certificate"
)
def register_certificate(request: HttpRequest, payload: CertificateIn) -> Status[PersonCertificate]:
    certificate = services.register_certificate(
        request.user,
        certificate_pem=payload.certificate_pem,
        purpose=payload.purpose,
        intermediates_pem=payload.intermediates_pem,
    )
    return Status(201, certificate)


@router.get("/certificates", response=list[CertificateOut], summary="Your certificates")
def my_certificates(request: HttpRequest) -> Any:
    user = signed_in(request.user)
    return PersonCertificate.objects.filter(user=user).select_related("organisation")


@router.get(
    "/organisations/{credit_code}/certificates",
    response=list[PublicCertificateOut],
    auth=PUBLIC,
    summary="An organisation's active certificates (fingerprints and validity)",
)
def organisation_certificates(request: HttpRequest, credit_code: str) -> Any:
    organisation = get_object_or_404(Organisation, credit_code=credit_code.upper())
    return PersonCertificate.objects.filter(
        organisation=organisation, status=PersonCertificate.Status.ACTIVE
    ).order_by("purpose", "not_after", "id")


# --- people's signatures on documents ----------------------------------------------------------


class DocumentSignatureOut(Schema):
    signer: str = Field(..., description="the person's display name")
    organisation: str
    organisation_name: str
    certificate: str = Field(..., description="SHA-256 fingerprint of the signing certificate")
    suite: str
    sha256: str
    public_key: str
    signature: str
    signed_at: dt.datetime


class SigningOut(Schema):
    kind: str
    document_id: int
    title: str
    sha256: str = Field(..., description="the document's SHA-256: what is signed")
    message: str = Field(..., description="the exact message to sign (UTF-8)")
    organisation: str = Field(..., description="the organisation you sign for")
    signatures: list[DocumentSignatureOut]


class SignatureIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(..., min_length=64, max_length=64)
    signature: str = Field(..., min_length=1, max_length=400, description="base64")
    public_key: str = Field(..., min_length=1, max_length=400, description="base64, as keys are")


def signature_out(row: DocumentSignature) -> dict[str, Any]:
    return {
        "signer": row.signer.get_full_name() or row.signer.get_username(),
        "organisation": row.organisation.credit_code,
        "organisation_name": row.organisation.name,
        "certificate": row.certificate.fingerprint,
        "suite": row.suite,
        "sha256": row.sha256,
        "public_key": row.public_key,
        "signature": row.signature,
        "signed_at": row.signed_at,
    }


@router.get(
    "/documents/{kind}/{document_id}/signing",
    response=SigningOut,
    summary="A document as you may sign it: its SHA-256, the message, and who has signed",
)
def get_signing(request: HttpRequest, kind: str, document_id: int) -> dict[str, Any]:
    document = document_signatures.signable(request.user, kind, document_id)
    return {
        "kind": kind,
        "document_id": document_id,
        "title": document.title,
        "sha256": document.sha256,
        "message": document_signatures.signing_message(kind, document_id, document.sha256).decode(),
        "organisation": document.organisation.credit_code,
        "signatures": [
            signature_out(row) for row in document_signatures.signatures(kind, document_id)
        ],
    }


@router.post(
    "/documents/{kind}/{document_id}/signatures",
    response={201: DocumentSignatureOut},
    summary="Sign a document with the key of your registered signing certificate",
)
def post_signature(
    request: HttpRequest, kind: str, document_id: int, payload: SignatureIn
) -> Status[dict[str, Any]]:
    row = document_signatures.sign(
        request.user,
        kind,
        document_id,
        sha256=payload.sha256,
        signature=payload.signature,
        public_key=payload.public_key,
    )
    return Status(201, signature_out(row))
