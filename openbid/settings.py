"""Django settings for openbid.

Everything that differs between a laptop and a trading centre's servers comes from the environment
(see docs/operators/configuration.md). With nothing set, openbid runs embedded: SQLite and local files
under ``OPENBID_HOME`` (default ``./var``).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
OPENBID_HOME = Path(os.environ.get("OPENBID_HOME", "var")).resolve()


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """The signing key: from the environment, else generated once and kept under OPENBID_HOME.

    No secret is ever part of the repository.
    """
    if key := os.environ.get("OPENBID_SECRET_KEY"):
        return key
    path = OPENBID_HOME / "secret_key"
    if not path.exists():
        OPENBID_HOME.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("OPENBID_DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("OPENBID_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("OPENBID_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "openbid.core.admin_site.CentreAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "openbid.core",
    "openbid.accounts",
    "openbid.ledger",
    "openbid.crypto",
    "openbid.tendering",
    "openbid.bidding",
    "openbid.opening",
    "openbid.credit",
    "openbid.draws",
    "openbid.evaluation",
    "openbid.disputes",
    "openbid.deposits",
    "openbid.award",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "openbid.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "openbid.urls"
WSGI_APPLICATION = "openbid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "openbid.core.context_processors.platform",
            ],
        },
    },
]

# Database: embedded SQLite unless DATABASE_URL names another (PostgreSQL in production and CI).
_sqlite_path = OPENBID_HOME / "openbid.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{_sqlite_path}",
        conn_max_age=int(os.environ.get("OPENBID_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker and the web server write to the embedded database side by side; the
    # immediate transaction mode makes a writer take the lock at BEGIN rather than fail mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # FULL: a receipt handed to a bidder must survive a power failure, not only a crash.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Languages: Chinese first, English complete (DESIGN.md principle 8).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "openbid_language"
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# Files: local disk under OPENBID_HOME unless an S3-compatible bucket is configured.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = OPENBID_HOME / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from it once collected
MEDIA_ROOT = OPENBID_HOME / "media"
_s3_bucket = os.environ.get("OPENBID_S3_BUCKET")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": _s3_bucket,
                "endpoint_url": os.environ.get("OPENBID_S3_ENDPOINT_URL") or None,
                "region_name": os.environ.get("OPENBID_S3_REGION") or None,
                "access_key": os.environ.get("OPENBID_S3_ACCESS_KEY") or None,
                "secret_key": os.environ.get("OPENBID_S3_SECRET_KEY") or None,
                "file_overwrite": False,
                "default_acl": None,
                "querystring_auth": True,
            },
        }
        if _s3_bucket
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": MEDIA_ROOT},
        }
    ),
    # Hashed file names need `collectstatic`; operators who run it turn them on for far-future caching.
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _env_flag("OPENBID_STATIC_MANIFEST")
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Uploads larger than this are streamed to a temporary file instead of held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Background work: the database-backed queue; the worker also runs the clock loop.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
OPENBID_CLOCK_INTERVAL_SECONDS = float(os.environ.get("OPENBID_CLOCK_INTERVAL", "30"))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_flag("OPENBID_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

OPENBID_PLATFORM_NAME = os.environ.get("OPENBID_PLATFORM_NAME", "openbid")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OPENBID_LOG_LEVEL", "WARNING")},
    "loggers": {"openbid": {"level": os.environ.get("OPENBID_LOG_LEVEL", "INFO")}},
}

# Ledger (transparency log). The origin names this log in its checkpoints; set it to the platform's
# host name and path. Keys: see docs/operators/keys.md.
OPENBID_LEDGER_ORIGIN = os.environ.get("OPENBID_LEDGER_ORIGIN", "openbid.localhost/ledger")
OPENBID_WITNESS_NAME = os.environ.get("OPENBID_WITNESS_NAME", "openbid.localhost/witness")
OPENBID_LEDGER_CHECKPOINT_SECONDS = float(os.environ.get("OPENBID_LEDGER_CHECKPOINT_SECONDS", "60"))

# Tender documents: the largest file accepted (bytes). Uploads are streamed; see FILE_UPLOAD_*.
OPENBID_MAX_DOCUMENT_BYTES = int(
    os.environ.get("OPENBID_MAX_DOCUMENT_BYTES", str(200 * 1024 * 1024))
)

# Sealed bids: the largest ciphertext accepted, and how long bidders have to release their keys
# once the opening starts.
OPENBID_MAX_BID_BYTES = int(os.environ.get("OPENBID_MAX_BID_BYTES", str(512 * 1024 * 1024)))
OPENBID_DECRYPTION_WINDOW_MINUTES = int(os.environ.get("OPENBID_DECRYPTION_WINDOW_MINUTES", "30"))

# Expert draws: an expert who sat on this many committees of the same tenderer, or with a member
# already on the committee, within the window is recused (a local rule of the expert management
# measures, not national law: configure it per trading centre).
OPENBID_EXPERT_JOINT_LIMIT = int(os.environ.get("OPENBID_EXPERT_JOINT_LIMIT", "3"))
OPENBID_EXPERT_JOINT_WINDOW_DAYS = int(os.environ.get("OPENBID_EXPERT_JOINT_WINDOW_DAYS", "180"))
# Objections and complaints: the handling target as a percent of each statutory limit (unset: the
# rules table's handling_target_ratio, 50), and how many hours before a target or limit the
# handler is warned.
OPENBID_DISPUTES_TARGET_PERCENT = os.environ.get("OPENBID_DISPUTES_TARGET_PERCENT") or None
OPENBID_DISPUTES_WARNING_HOURS = int(os.environ.get("OPENBID_DISPUTES_WARNING_HOURS", "24"))


def _pairs(value: str) -> dict[str, str]:
    """``"code=secret;code2=secret2"`` as a dict (empty entries ignored)."""
    found: dict[str, str] = {}
    for item in value.split(";"):
        code, sep, secret = item.partition("=")
        if sep and code.strip() and secret.strip():
            found[code.strip()] = secret.strip()
    return found


# Deposits (docs/operators/deposits.md): the collecting bank and the centre's deposit account, the
# prefix of virtual sub-account numbers, the banks' webhook secrets and replay window, and the
# current-deposit interest rate paid on refunds.
OPENBID_DEPOSIT_BANK_CODE = os.environ.get("OPENBID_DEPOSIT_BANK_CODE", "demo")
OPENBID_DEPOSIT_BANK_NAME = os.environ.get("OPENBID_DEPOSIT_BANK_NAME", "示范银行")
OPENBID_DEPOSIT_ACCOUNT_NAME = os.environ.get(
    "OPENBID_DEPOSIT_ACCOUNT_NAME", "公共资源交易中心投标保证金专户"
)
OPENBID_DEPOSIT_ACCOUNT_PREFIX = os.environ.get("OPENBID_DEPOSIT_ACCOUNT_PREFIX", "621700")
OPENBID_BANK_WEBHOOK_SECRETS = _pairs(os.environ.get("OPENBID_BANK_WEBHOOK_SECRETS", ""))
OPENBID_BANK_WEBHOOK_WINDOW_SECONDS = int(
    os.environ.get("OPENBID_BANK_WEBHOOK_WINDOW_SECONDS", "300")
)
OPENBID_DEPOSIT_INTEREST_RATE_PERCENT = os.environ.get(
    "OPENBID_DEPOSIT_INTEREST_RATE_PERCENT", "0.35"
)
OPENBID_DEPOSIT_INTEREST_DAY_BASIS = int(
    os.environ.get("OPENBID_DEPOSIT_INTEREST_DAY_BASIS", "360")
)
# E-guarantees (docs/operators/guarantees.md): the bid validity period a guarantee must cover
# after the bid deadline, and whether the built-in test issuer may be used (demo and tests).
OPENBID_BID_VALIDITY_DAYS = int(os.environ.get("OPENBID_BID_VALIDITY_DAYS", "90"))
OPENBID_BUILTIN_TEST_ISSUER = _env_flag("OPENBID_BUILTIN_TEST_ISSUER", True)
OPENBID_TEST_ISSUER_SEED = os.environ.get("OPENBID_TEST_ISSUER_SEED", "openbid-test-issuer")
OPENBID_GUARANTEE_ISSUER_TIMEOUT_SECONDS = float(
    os.environ.get("OPENBID_GUARANTEE_ISSUER_TIMEOUT_SECONDS", "20")
)
# Experts' evaluation fees (评标劳务费, yuan, a local standard): a whole day, and a half-day (a
# started four hours); the session's duration from its start to the last signature of the report.
OPENBID_EXPERT_FEE_DAY = os.environ.get("OPENBID_EXPERT_FEE_DAY", "800.00")
OPENBID_EXPERT_FEE_HALF_DAY = os.environ.get("OPENBID_EXPERT_FEE_HALF_DAY", "500.00")

# Award: how many days before the written report to the regulator is due it is warned about, and
# at how many days before the contract's statutory deadline the parties are warned.
OPENBID_AWARD_REPORT_WARNING_DAYS = int(os.environ.get("OPENBID_AWARD_REPORT_WARNING_DAYS", "3"))
OPENBID_AWARD_CONTRACT_WARNING_DAYS = tuple(
    int(d) for d in os.environ.get("OPENBID_AWARD_CONTRACT_WARNING_DAYS", "7,1").split(",") if d
)
