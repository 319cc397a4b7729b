"""The ledger's cryptographic core is pure Python: its tests need neither Django nor a database.

The project-wide ``tests/conftest.py`` has an autouse fixture that asks pytest-django for
``settings``; overriding it here (same name, narrower scope) keeps these tests runnable with
``-p no:django`` as well as under the normal pytest-django setup, where the tests that store
entries (and register organisations, whose people have passwords) still hash passwords fast.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(request: pytest.FixtureRequest) -> None:
    """Fast password hashing when pytest-django is active; nothing without it."""
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
