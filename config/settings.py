"""One environment-driven settings module.

Everything that differs between a laptop trial, CI and production comes from the environment:
``DATABASE_URL`` (default: ``aftersales.sqlite3`` in the working directory), ``SECRET_KEY``,
``DEBUG``, ``ALLOWED_HOSTS``.
"""

import contextlib
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
WORK_DIR = Path(os.environ.get("AFTERSALES_HOME", os.getcwd()))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    # A trial install keeps a generated key next to its database so sessions survive restarts.
    key_file = WORK_DIR / ".aftersales-secret-key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        with contextlib.suppress(OSError):
            key_file.write_text(key)
        return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "aftersales.core",
    "aftersales.catalog",
    "aftersales.team",
    "aftersales.policy",
    "aftersales.cases",
    "aftersales.complaints",
    "aftersales.reviews",
    "aftersales.disputes",
    "aftersales.playbooks",
    "aftersales.notify",
    "aftersales.sla",
    "aftersales.feedback",
    "aftersales.routing",
    "aftersales.conversations",
    "aftersales.violations",
    "aftersales.insurance",
    "aftersales.inspections",
    "aftersales.connectors",
    "aftersales.insights",
    "aftersales.crm",
    "aftersales.onboarding",
    "aftersales.operations",
]

MIDDLEWARE = [
    # Neither of the first two reads the body, so the size limit still comes before anything that
    # does; they come first so that its refusals carry a request id and the policy too.
    "aftersales.core.middleware.RequestIdMiddleware",
    "csp.middleware.CSPMiddleware",
    "aftersales.core.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "aftersales.core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "aftersales.core.middleware.PageErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "aftersales" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aftersales.core.context_processors.server_time",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{WORK_DIR / 'aftersales.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue up instead of failing half-way through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("SQLITE_TEST_NAME")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "aftersales" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = WORK_DIR / "staticfiles"
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Bodies larger than these are refused on their Content-Length before anything reads them
# (`BodySizeLimitMiddleware`); every other request may send DATA_UPLOAD_MAX_MEMORY_SIZE + 1 MB.
# Each allows the largest files of its form (evidence: a 50 MB video; the portal's application:
# five 10 MB photos) and 1 MB for the fields and the multipart envelope.
AFTERSALES_BODY_LIMITS = [
    ("POST", r"/api/v1/cases/[^/]+/evidence", 51 * 1024 * 1024),
    ("POST", r"/orders/\d+/apply/", 51 * 1024 * 1024),
    # A message with its photos (three of at most 10 MB each), from the API, the desk or the portal.
    ("POST", r"(/api/v1|/desk)?/(cases|complaints)/[^/]+/messages?/?", 31 * 1024 * 1024),
]
# Evidence files (photos, short videos) go through the default storage: local files here, any
# django-storages backend in production. They are served by the API to those who may see the case.
MEDIA_ROOT = Path(os.environ.get("AFTERSALES_MEDIA_ROOT", WORK_DIR / "media"))
MEDIA_URL = "/media/"

# Production sits behind TLS: AFTERSALES_SECURE=1 turns on HTTPS-only cookies, redirects and HSTS
# (`aftersales check --deploy` passes with it). A local trial on http://127.0.0.1 leaves it off.
SECURE = _env_bool("AFTERSALES_SECURE", False)
SECURE_SSL_REDIRECT = SECURE
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = 31_536_000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
if SECURE:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The pages run only their own static scripts and styles (vendored htmx, no inline code), so the
# policy allows nothing else. A view that needs more says so with csp's decorators.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# The key that seals marketplace stores' keys (connectors.keys); derived from SECRET_KEY if unset.
AFTERSALES_CONNECTOR_KEY = os.environ.get("AFTERSALES_CONNECTOR_KEY", "")
# How long a call to a marketplace waits for its answer, in seconds (a write that waits longer
# has an unknown outcome, settled by the next read).
AFTERSALES_CONNECTOR_TIMEOUT = float(os.environ.get("AFTERSALES_CONNECTOR_TIMEOUT", "15"))
# How often the worker syncs each marketplace store that reads its platform's API, in seconds.
AFTERSALES_STORE_SYNC_INTERVAL = float(os.environ.get("AFTERSALES_STORE_SYNC_INTERVAL", "300"))
# Where people reach this installation: links in e-mails and notifications are built on it.
AFTERSALES_BASE_URL = os.environ.get("AFTERSALES_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "aftersales@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _env_bool("EMAIL_USE_SSL", False)
# A mail server that stops answering must not hold a delivery forever (Django waits forever).
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "30"))

# Deliveries (e-mail, SMS, webhooks) are durable tasks (docs/notifications.md, ADR 8): the
# database backend by default, run by `aftersales worker`; a Redis-backed backend for scale.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("AFTERSALES_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# Attempts of one delivery before it is dead (replayable from the admin and the API).
AFTERSALES_DELIVERY_MAX_ATTEMPTS = int(os.environ.get("AFTERSALES_DELIVERY_MAX_ATTEMPTS", "8"))
# Pause before the 2nd attempt, doubling after each failure up to the cap, in seconds.
AFTERSALES_DELIVERY_BACKOFF = float(os.environ.get("AFTERSALES_DELIVERY_BACKOFF", "60"))
AFTERSALES_DELIVERY_BACKOFF_CAP = float(os.environ.get("AFTERSALES_DELIVERY_BACKOFF_CAP", "3600"))
# A delivery being sent for longer than this is taken for lost (its worker died) and tried again.
AFTERSALES_DELIVERY_LEASE = float(os.environ.get("AFTERSALES_DELIVERY_LEASE", "300"))
# Deliveries carried by one task when a change or a sweep plans several at once.
AFTERSALES_DELIVERY_TASK_BATCH = int(os.environ.get("AFTERSALES_DELIVERY_TASK_BATCH", "200"))
AFTERSALES_WEBHOOK_TIMEOUT = float(os.environ.get("AFTERSALES_WEBHOOK_TIMEOUT", "10"))
# Webhook URLs on private, loopback or link-local addresses are refused unless this is on.
AFTERSALES_WEBHOOK_ALLOW_PRIVATE = _env_bool("AFTERSALES_WEBHOOK_ALLOW_PRIVATE", False)
# Text messages: the backend (logging by default), the notice kinds that send one ("*": every
# customer notice) and, for Tencent Cloud SMS, the credentials and a template per notice kind.
AFTERSALES_SMS_BACKEND = os.environ.get(
    "AFTERSALES_SMS_BACKEND", "aftersales.notify.sms.logging.LoggingSmsBackend"
)
AFTERSALES_SMS_KINDS = [
    kind.strip() for kind in os.environ.get("AFTERSALES_SMS_KINDS", "*").split(",") if kind.strip()
]
AFTERSALES_SMS_TENCENT = {
    "SECRET_ID": os.environ.get("TENCENT_SMS_SECRET_ID", ""),
    "SECRET_KEY": os.environ.get("TENCENT_SMS_SECRET_KEY", ""),
    "SDK_APP_ID": os.environ.get("TENCENT_SMS_SDK_APP_ID", ""),
    "SIGN_NAME": os.environ.get("TENCENT_SMS_SIGN_NAME", ""),
    "REGION": os.environ.get("TENCENT_SMS_REGION", "ap-guangzhou"),
    "ENDPOINT": os.environ.get("TENCENT_SMS_ENDPOINT", "https://sms.tencentcloudapi.com"),
    # "case_opened=123456,case_refunded=123457,*=123458": a template id per notice kind.
    "TEMPLATES": dict(
        item.strip().split("=", 1)
        for item in os.environ.get("TENCENT_SMS_TEMPLATES", "").split(",")
        if "=" in item
    ),
}

NINJA_PAGINATION_PER_PAGE = 50

# The worker's pause between sweeps when nothing was due, in seconds.
AFTERSALES_WORKER_INTERVAL = float(os.environ.get("AFTERSALES_WORKER_INTERVAL", "1.0"))
AFTERSALES_SWEEP_BATCH = int(os.environ.get("AFTERSALES_SWEEP_BATCH", "200"))
# Delivery tasks the worker runs per round (0: none, left to `aftersales db_worker` processes).
AFTERSALES_WORKER_TASKS = int(os.environ.get("AFTERSALES_WORKER_TASKS", "50"))
# How long before a deadline acts the desk's bell tells the subject's people, in minutes.
AFTERSALES_DEADLINE_WARNING_MINUTES = int(
    os.environ.get("AFTERSALES_DEADLINE_WARNING_MINUTES", "120")
)
# A worker silent for this many seconds is taken for stopped: GET /health says so and the
# workbench warns (no deadline acts while no worker runs).
AFTERSALES_WORKER_STALE_AFTER = float(os.environ.get("AFTERSALES_WORKER_STALE_AFTER", "60"))

# Whether the starter playbooks copied to a shop hold actions until their required steps are
# done (a lead can turn each playbook on or off later). Off: an upgrade never blocks work.
PLAYBOOKS_STARTER_ENFORCED = _env_bool("PLAYBOOKS_STARTER_ENFORCED", False)

# Everything goes to the console (the process manager keeps it), each line with the id of its
# request: the id a person quotes from an error page finds the traceback. Django's errors (500s
# with their traceback, refused hosts) are logged with DEBUG off too; there is no mail to admins.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "aftersales.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "console": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "console",
        }
    },
    "loggers": {
        "aftersales": {"handlers": ["console"], "level": "INFO"},
        "django": {"handlers": ["console"], "level": "ERROR"},
    },
}

LOGIN_URL = "/desk/login/"
LOGOUT_REDIRECT_URL = "/"
