import pytest

from tests.factories import centre_with_staff


@pytest.fixture
def staff(db, clock):
    _centre, user = centre_with_staff("deposit-staff")
    return user


@pytest.fixture(autouse=True)
def _bank_settings(settings):
    settings.OPENBID_DEPOSIT_BANK_CODE = "demo"
    settings.OPENBID_BANK_WEBHOOK_SECRETS = {"icbc": "test-webhook-secret"}
    settings.OPENBID_BANK_WEBHOOK_WINDOW_SECONDS = 300
    settings.OPENBID_DEPOSIT_INTEREST_RATE_PERCENT = "0.35"
    settings.OPENBID_DEPOSIT_INTEREST_DAY_BASIS = 360
    settings.OPENBID_DEPOSIT_ACCOUNT_PREFIX = "621700"
    settings.OPENBID_BID_VALIDITY_DAYS = 90
