"""Shared fixtures: a movable clock, people in every role, and a fast password hasher."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from openbid.core import clock as platform_clock

SHANGHAI = ZoneInfo("Asia/Shanghai")


def pytest_configure(config: pytest.Config) -> None:
    """Fast password hashing (PBKDF2 would dominate the run time), and files and generated keys
    in a temporary folder rather than the developer's ``var/``."""
    if config.pluginmanager.has_plugin("django"):
        import tempfile
        from pathlib import Path

        from django.conf import settings

        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        home = Path(tempfile.mkdtemp(prefix="openbid-test-"))
        settings.OPENBID_HOME = home
        settings.MEDIA_ROOT = home / "media"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {**settings.STORAGES["default"], "OPTIONS": {"location": home / "media"}},
        }


@pytest.fixture(autouse=True)
def _fresh_tile_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that commit (live server, transactional_db) must not see another test's tiles."""
    if not request.config.pluginmanager.has_plugin("django"):
        yield
        return
    from openbid.ledger import store

    store.clear_cache()
    yield
    store.clear_cache()


@pytest.fixture
def media_dir(settings: Any, tmp_path: Path) -> Path:
    """A media folder of this test's own, for tests that look at the files written."""
    folder = tmp_path / "media"
    settings.MEDIA_ROOT = folder
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": folder}},
    }
    return folder


class MovableClock:
    """The platform clock under a test's control."""

    def set(self, when: dt.datetime | str) -> dt.datetime:
        if isinstance(when, str):
            when = dt.datetime.fromisoformat(when)
        if when.tzinfo is None:
            when = when.replace(tzinfo=SHANGHAI)
        platform_clock.freeze(when)
        return when

    def advance(self, **kwargs: float) -> dt.datetime:
        return platform_clock.advance(dt.timedelta(**kwargs))

    def now(self) -> dt.datetime:
        return platform_clock.now()


@pytest.fixture
def clock() -> Iterator[MovableClock]:
    c = MovableClock()
    c.set("2026-03-02T09:00:00")
    yield c
    platform_clock.unfreeze()
