from __future__ import annotations

import pytest

from openbid.core.models import DomainEvent
from openbid.tendering.lifecycle import State
from tests.tendering.factories import published_tender

pytestmark = pytest.mark.django_db


def test_publish(clock):
    tender, _user = published_tender()
    assert tender.status == State.PUBLISHED
    assert tender.notices.get().body.startswith("一、项目名称")
    assert DomainEvent.objects.filter(type="tendering.tender.published").exists()
