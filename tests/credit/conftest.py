from __future__ import annotations

import pytest

from tests.factories import centre_with_staff, market_entity


@pytest.fixture
def staff(db, clock):
    _centre, user = centre_with_staff()
    return user


@pytest.fixture
def bidder(db, clock):
    return market_entity()
