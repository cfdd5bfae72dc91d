"""Deskpilot settings: every setting comes from an environment variable with a typed default.

This is the one place settings are read. Each variable is documented in docs/configuration.md;
code elsewhere reads ``django.conf.settings``, never ``os.environ``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from deskpilot.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Where the SQLite database, attachments and the job store live. Two instances side by side
# only need different DESKPILOT_DATA_DIR values (and PORT).
DATA_DIR = Path(env_str("DESKPILOT_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DESKPILOT_DEBUG", False)


def _secret_key() -> str:
    """An explicit key wins; otherwise one is generated once per data directory and kept there,
    so sessions survive restarts and several processes on one machine agree."""
    explicit = env_str("DESKPILOT_SECRET_KEY", "")
    if explicit:
        return explicit
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        tmp = key_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(get_random_secret_key())
        tmp.chmod(0o600)
        # Atomic: two processes starting together end up with the same key.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, key_file)
        tmp.unlink()
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("DESKPILOT_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DESKPILOT_CSRF_TRUSTED_ORIGINS", [])
# The public base URL, used in links inside emails and in the printed sign-in hint.
# The port `deskpilot serve` listens on.
PORT = env_int("PORT", 8000)
BASE_URL = env_str("DESKPILOT_BASE_URL", f"http://127.0.0.1:{PORT}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # Serves the API docs page (Swagger UI) from its bundled static files: no CDN needed.
    "ninja",
    "huey.contrib.djhuey",
    "deskpilot.core",
    "deskpilot.accounts",
    "deskpilot.customers",
    "deskpilot.tickets",
    "deskpilot.portal",
    "deskpilot.mail",
    "deskpilot.policies",
    "deskpilot.automation",
    "deskpilot.analytics",
    "deskpilot.reports",
    "deskpilot.feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication: every page renders times in the signed-in person's time zone.
    "deskpilot.core.middleware.ViewerTimeZoneMiddleware",
]

ROOT_URLCONF = "deskpilot.urls"
WSGI_APPLICATION = "deskpilot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "deskpilot" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "deskpilot.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite in DATA_DIR by default (WAL, IMMEDIATE transactions so concurrent writers queue instead
# of failing with "database is locked"); PostgreSQL 15+ when DATABASE_URL is set.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "deskpilot.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-65536;"
                    "PRAGMA mmap_size=268435456;"
                    "PRAGMA temp_store=MEMORY;"
                ),
            },
        }
    }
# The statements every ticket change runs are prepared on PostgreSQL (deskpilot.core.db). Turn it
# off behind a transaction-mode pooler that does not keep prepared statements (PgBouncer before
# 1.21, or later with max_prepared_statements = 0).
DB_PREPARE_STATEMENTS = env_bool("DESKPILOT_DB_PREPARE", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and jobs -------------------------------------------------------------------
REDIS_URL = env_str("DESKPILOT_REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # A database cache is shared by every process on the machine, which the sign-in rate limit
    # needs; an in-memory cache would give each gunicorn worker its own counter.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "deskpilot_cache"}}

HUEY_IMMEDIATE = env_bool("DESKPILOT_JOBS_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env_str("DESKPILOT_JOBS_NAME", "deskpilot"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "utc": True,
        "consumer": {"workers": env_int("DESKPILOT_WORKER_THREADS", 2), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": env_str("DESKPILOT_JOBS_NAME", "deskpilot"),
        "filename": str(DATA_DIR / "jobs.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "utc": True,
        "consumer": {"workers": env_int("DESKPILOT_WORKER_THREADS", 2), "worker_type": "thread"},
    }

# --- Auth ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["deskpilot.accounts.backends.RateLimitedEmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Failed sign-ins allowed per email address and per client address within the window.
SIGNIN_MAX_FAILURES = env_int("DESKPILOT_SIGNIN_MAX_FAILURES", 5)
SIGNIN_WINDOW_SECONDS = env_int("DESKPILOT_SIGNIN_WINDOW_SECONDS", 900)
LOGIN_URL = "/signin"
# How long a one-time sign-in link (sent by email) stays valid, in minutes.
SIGNIN_LINK_MINUTES = env_int("DESKPILOT_SIGNIN_LINK_MINUTES", 30)
# Public request form (no account needed): submissions allowed per client address per hour.
PUBLIC_FORM_MAX_PER_HOUR = env_int("DESKPILOT_PUBLIC_FORM_MAX_PER_HOUR", 10)

# How many reverse proxies in front of Deskpilot append to X-Forwarded-For. 0 (the default) means
# clients connect directly and REMOTE_ADDR is their address; with N proxies the client is the Nth
# address from the right (anything further left is what the client itself claimed). It also makes
# Django trust the proxy's X-Forwarded-Proto for HTTPS.
PROXY_COUNT = env_int("DESKPILOT_PROXY_COUNT", 0)
if PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("DESKPILOT_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Outgoing email --------------------------------------------------------------------------
# Without DESKPILOT_SMTP_HOST, mail is written to the server's log instead of being sent, so a
# fresh install works (the one-time sign-in link appears in the `make run` output).
SMTP_HOST = env_str("DESKPILOT_SMTP_HOST", "")
if SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = SMTP_HOST or "localhost"
EMAIL_PORT = env_int("DESKPILOT_SMTP_PORT", 25)
EMAIL_HOST_USER = env_str("DESKPILOT_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("DESKPILOT_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DESKPILOT_SMTP_STARTTLS", False)
EMAIL_USE_SSL = env_bool("DESKPILOT_SMTP_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("DESKPILOT_SMTP_STARTTLS and DESKPILOT_SMTP_SSL: choose one of the two, not both")
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("DESKPILOT_MAIL_FROM", "Deskpilot <support@localhost>")
# Acknowledgements of new requests sent to one address per hour at most; more are skipped (and
# the reason recorded), so a sender writing in a loop does not get a loop back.
ACK_MAX_PER_HOUR = env_int("DESKPILOT_ACK_MAX_PER_HOUR", 3)
# Whether new requests are acknowledged when no mailbox is configured (a mailbox has its own switch).
MAIL_SEND_ACKNOWLEDGEMENT = env_bool("DESKPILOT_MAIL_SEND_ACKNOWLEDGEMENT", True)
# Delivery attempts per outgoing mail before it is marked failed; between attempts the worker waits
# DESKPILOT_MAIL_RETRY_MINUTES (the last value repeats). A 5xx answer fails at once.
MAIL_MAX_ATTEMPTS = env_int("DESKPILOT_MAIL_MAX_ATTEMPTS", 5)
_retry_minutes = env_list("DESKPILOT_MAIL_RETRY_MINUTES", ["1", "5", "30", "120"])
MAIL_RETRY_MINUTES = [int(m) for m in _retry_minutes if m.isdigit()]
if MAIL_MAX_ATTEMPTS < 1 or not MAIL_RETRY_MINUTES or len(MAIL_RETRY_MINUTES) != len(_retry_minutes):
    raise ImproperlyConfigured(
        "DESKPILOT_MAIL_MAX_ATTEMPTS must be at least 1 and DESKPILOT_MAIL_RETRY_MINUTES whole minutes, e.g. 1,5,30"
    )

# --- Webhooks --------------------------------------------------------------------------------
# Webhook URLs inside this network (loopback, private, link-local addresses) are refused, so a
# subscription cannot be used to reach internal services; allow them for a receiver on the LAN.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("DESKPILOT_WEBHOOK_ALLOW_PRIVATE", False)

# --- Tickets ---------------------------------------------------------------------------------
# Solved tickets close after this many days (DOMAIN.md: default 4).
AUTO_CLOSE_DAYS = env_int("DESKPILOT_AUTO_CLOSE_DAYS", 4)
# Largest accepted attachment, in bytes (default 20 MiB). Larger uploads get HTTP 413.
ATTACHMENT_MAX_BYTES = env_int("DESKPILOT_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
ATTACHMENT_DIR = DATA_DIR / "attachments"
# Every email received, byte for byte, stored by SHA-256 before it is parsed (mail/raw.py).
MAIL_RAW_DIR = DATA_DIR / "mail"
# Largest message the SMTP listener (`deskpilot mail smtpd`) accepts, in bytes (default 50 MiB).
MAIL_MAX_MESSAGE_BYTES = env_int("DESKPILOT_MAIL_MAX_MESSAGE_BYTES", 50 * 1024 * 1024)
# Seconds an IMAP connection may wait for the server before the poll gives up (and records why).
MAIL_IMAP_TIMEOUT = env_int("DESKPILOT_MAIL_IMAP_TIMEOUT", 30)
# Staff replying by email: their mail becomes a public reply only when the receiving mail server
# vouched for the sender (an Authentication-Results header from one of these authserv-ids with
# dmarc, dkim or spf pass), or when DESKPILOT_MAIL_TRUST_STAFF_FROM is on; otherwise it is kept
# as an internal note, since a customer on the thread could forge an agent's From.
MAIL_TRUSTED_AUTHSERV_IDS = env_list("DESKPILOT_MAIL_TRUSTED_AUTHSERV_IDS", [])
MAIL_TRUST_STAFF_FROM = env_bool("DESKPILOT_MAIL_TRUST_STAFF_FROM", False)
# Largest accepted message body, in characters.
MESSAGE_MAX_CHARS = env_int("DESKPILOT_MESSAGE_MAX_CHARS", 200_000)
# How long an Idempotency-Key is remembered, in hours.
IDEMPOTENCY_TTL_HOURS = env_int("DESKPILOT_IDEMPOTENCY_TTL_HOURS", 24)
# Largest request body Django reads into memory. API attachments travel base64-encoded (a third
# larger), so the body must hold one attachment of ATTACHMENT_MAX_BYTES encoded, plus the rest of
# the request; a larger attachment is then refused with a 413 that names it.
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_BYTES * 4 // 3 + 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Static files ----------------------------------------------------------------------------
# Front-end packages come from npm (node_modules, never committed) and are served as static files.
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
_NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/htmx", _NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/alpinejs", _NODE_MODULES / "alpinejs" / "dist"),
    ("vendor/chartjs", _NODE_MODULES / "chart.js" / "dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.exists()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DESKPILOT_LOG_LEVEL", "INFO")},
    "loggers": {"huey": {"level": "WARNING"}},
}
