"""Organisation types, roles, and which roles each type of organisation may hold."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgType(models.TextChoices):
    TRADING_CENTRE = "trading_centre", _("trading centre (交易中心)")
    TENDERER = "tenderer", _("tenderer (招标人)")
    AGENCY = "agency", _("tendering agency (招标代理)")
    BIDDER = "bidder", _("bidder (投标人)")
    REGULATOR = "regulator", _("regulator (行政监督部门)")
    EXPERT_EMPLOYER = "expert_employer", _("expert's employer (专家所在单位)")


class Role(models.TextChoices):
    CENTRE_STAFF = "centre_staff", _("trading centre staff")
    TENDERER_STAFF = "tenderer_staff", _("tenderer staff")
    AGENCY_STAFF = "agency_staff", _("agency staff")
    BIDDER_STAFF = "bidder_staff", _("bidder staff")
    EXPERT = "expert", _("evaluation expert")
    REGULATOR = "regulator", _("regulator")
    AUDITOR = "auditor", _("auditor (read-only)")


# A person's role must fit the organisation they hold it in: a bidder's employee cannot be made
# centre staff by their own organisation's administrator.
ROLES_BY_ORG_TYPE: dict[str, frozenset[str]] = {
    OrgType.TRADING_CENTRE: frozenset({Role.CENTRE_STAFF, Role.AUDITOR}),
    OrgType.TENDERER: frozenset({Role.TENDERER_STAFF}),
    OrgType.AGENCY: frozenset({Role.AGENCY_STAFF}),
    OrgType.BIDDER: frozenset({Role.BIDDER_STAFF}),
    OrgType.REGULATOR: frozenset({Role.REGULATOR, Role.AUDITOR}),
    OrgType.EXPERT_EMPLOYER: frozenset({Role.EXPERT}),
}

# Market entities register themselves by integrity commitment; public bodies are created by the
# trading centre.
SELF_REGISTERING_TYPES = frozenset(
    {OrgType.TENDERER, OrgType.AGENCY, OrgType.BIDDER, OrgType.EXPERT_EMPLOYER}
)
