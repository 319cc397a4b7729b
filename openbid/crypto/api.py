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

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import signed_in
from openbid.core.api_auth import PUBLIC
from openbid.crypto import services
from openbid.crypto.models import PersonCertificate, RevocationList, TrustedCA

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
