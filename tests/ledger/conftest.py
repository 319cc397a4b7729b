"""The ledger's cryptographic core is pure Python: its tests need neither Django nor a database.

The project-wide ``tests/conftest.py`` has an autouse fixture that asks pytest-django for
``settings``; overriding it here (same name, narrower scope) keeps these tests runnable with
``-p no:django`` as well as under the normal pytest-django setup.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_passwords() -> None:
    """No-op override: nothing in tests/ledger hashes passwords."""
