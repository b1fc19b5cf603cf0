"""Settings for OpenNRM, read from the environment.

The embedded default is an SQLite file under var/; production sets DATABASE_URL to PostgreSQL.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OPENNRM_VAR_DIR", BASE_DIR / "var"))


def env_flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("OPENNRM_DEBUG")
# The default key is for the embedded demo only; production must set OPENNRM_SECRET_KEY.
DEMO_SECRET_KEY = "opennrm-demo-only-key-do-not-use-in-production-5f1c9a"
SECRET_KEY = os.environ.get("OPENNRM_SECRET_KEY", DEMO_SECRET_KEY)
# Running on the built-in key is what makes this the embedded demo (`make run`): a deployment must
# set its own key (`opennrm check --deploy` says so), and with it gets the second factor (ADR 0010).
EMBEDDED_DEMO = SECRET_KEY == DEMO_SECRET_KEY
SECRET_KEY_FALLBACKS = [k for k in os.environ.get("OPENNRM_SECRET_KEY_FALLBACKS", "").split(",") if k]
# The audit trail's keys (ADR 0027): the chains' HMAC key, separate from SECRET_KEY so that it can live outside the
# web tier, and the Ed25519 key that signs its checkpoints. A deployment sets both (opennrm.E010/E011 refuse to start
# without); the embedded demo makes its own random ones in var/, so no key is ever a published value.
_demo_audit_keys = {}
if EMBEDDED_DEMO and not (
    os.environ.get("OPENNRM_AUDIT_HMAC_KEY") and os.environ.get("OPENNRM_AUDIT_CHECKPOINT_SIGNING_KEY")
):
    from opennrm.audit.keys import embedded_demo_keys

    _demo_audit_keys = embedded_demo_keys(VAR_DIR)
AUDIT_HMAC_KEY = os.environ.get("OPENNRM_AUDIT_HMAC_KEY") or _demo_audit_keys.get("hmac_key", "")
AUDIT_CHECKPOINT_SIGNING_KEY = os.environ.get("OPENNRM_AUDIT_CHECKPOINT_SIGNING_KEY") or _demo_audit_keys.get(
    "checkpoint_signing_key", ""
)
# The official statistics' public files (.ods and tidy CSVs), one directory per release, served by the pages.
STATISTICS_PUBLICATION_DIR = Path(
    os.environ.get("OPENNRM_STATISTICS_PUBLICATION_DIR", VAR_DIR / "statistics-publication")
)
# Where the worker writes a signed checkpoint of every chain's head each night: best another store than the database's.
AUDIT_CHECKPOINT_DIR = Path(os.environ.get("OPENNRM_AUDIT_CHECKPOINT_DIR", VAR_DIR / "audit-checkpoints"))
# Chains the audit trail is spread over, so concurrent writers rarely wait for each other.
AUDIT_CHAINS = int(os.environ.get("OPENNRM_AUDIT_CHAINS", "16"))
# The key the HTCDS export's pseudonymous ids are made with (ADR 0031): each recipient's key is derived from it, so
# two recipients cannot join their files. A deployment sets it; the embedded demo makes a random one in var/.
EXCHANGE_KEY = os.environ.get("OPENNRM_EXCHANGE_KEY", "")

ALLOWED_HOSTS = [h for h in os.environ.get("OPENNRM_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Serves the API docs' Swagger UI from our own static files, not a CDN (strict CSP, closed networks).
    "ninja",
    "opennrm.core",
    "opennrm.accounts",
    "opennrm.audit",
    "opennrm.workdays",
    "opennrm.referrals",
    "opennrm.decisions",
    "opennrm.dashboards",
    "opennrm.safeguarding",
    "opennrm.linkage",
    "opennrm.cases",
    "opennrm.statistics",
    "opennrm.exchange",
    "opennrm.api",
    "opennrm.web",
    "opennrm.demo",
]

MIDDLEWARE = [
    "opennrm.core.middleware.BodySizeLimitMiddleware",
    # Right after the size limit, as one middleware did both before: every audit event of the request knows its origin.
    "opennrm.audit.middleware.AuditOriginMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, so that static assets keep their caching and every other answer is no-store.
    "opennrm.core.middleware.NoStoreMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the user and messages are known: idle sign-out first, then the second factor (ADR 0010).
    "opennrm.accounts.middleware.IdleSignOutMiddleware",
    "opennrm.accounts.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so the first to see what a view raised: NotFound and NotAllowed (core/errors.py) to the 404 and 403 pages.
    "opennrm.web.errors.ErrorPagesMiddleware",
]

ROOT_URLCONF = "opennrm.urls"
WSGI_APPLICATION = "opennrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "opennrm.web.jinja.environment",
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.template.context_processors.csp",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # The Django admin (users and organisations only) keeps its own templates.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'opennrm.sqlite3'}"),
        conn_max_age=int(os.environ.get("OPENNRM_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The work queue indexes' included columns (referrals/0003) speed up PostgreSQL; SQLite builds the
    # same indexes on their key columns only, which is all an embedded database of its size needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so the web server and the worker queue
        # for it instead of failing with "database is locked" half-way through.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif env_flag("OPENNRM_PG_SERVER_SIDE_BINDING", default=True):
    # Server-side binding with a prepare threshold lets psycopg prepare the statements requests repeat,
    # so PostgreSQL plans them once per connection instead of on every request (BENCHMARKS.md).
    # OPENNRM_PG_SERVER_SIDE_BINDING=0 turns it off, e.g. behind a transaction-mode connection pooler.
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:sign-in"
LOGIN_REDIRECT_URL = "web:home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Access granted by an event (a police force named on a missing episode, the local authority a child was
# transferred from) ends this long after the event ends: 72 hours covers the return interview and the
# hand-over of the case (ADR 0028).
EVENT_ACCESS_GRACE_HOURS = float(os.environ.get("OPENNRM_EVENT_ACCESS_GRACE_HOURS", "72"))

# A referral is a few kilobytes; anything above 1 MiB is refused with 413 before it is read.
MAX_REQUEST_BODY_BYTES = int(os.environ.get("OPENNRM_MAX_REQUEST_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

# The session cookie's absolute lifetime; inactivity ends a session much sooner (IDLE_SIGN_OUT_SECONDS).
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_flag("OPENNRM_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS-only deployments turn these on (`opennrm check --deploy` asks for them); they stay off by
# default so the embedded demo works on plain http://127.0.0.1. Behind a TLS-terminating proxy, also
# set OPENNRM_BEHIND_TLS_PROXY=1 so Django knows the request came in over HTTPS (no redirect loop).
SECURE_HSTS_SECONDS = int(os.environ.get("OPENNRM_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("OPENNRM_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_flag("OPENNRM_HSTS_PRELOAD")
SECURE_SSL_REDIRECT = env_flag("OPENNRM_SSL_REDIRECT")
if env_flag("OPENNRM_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- Signing in (ADR 0010) ---
# A second factor (TOTP) for every role, on unless this is the embedded demo; a user who has set one
# up is always asked for it. OPENNRM_REQUIRE_SECOND_FACTOR=0 turns the requirement off (check --deploy warns).
REQUIRE_SECOND_FACTOR = env_flag("OPENNRM_REQUIRE_SECOND_FACTOR", default=not EMBEDDED_DEMO)
OTP_TOTP_ISSUER = os.environ.get("OPENNRM_OTP_ISSUER", "OpenNRM")
# django-otp's own per-device back-off is off: wrong codes count towards the lock-out below instead,
# which also covers passwords and the API, and which an administrator can lift.
OTP_TOTP_THROTTLE_FACTOR = 0
# Signed out after this long without a request; the pages warn IDLE_WARNING_SECONDS before.
IDLE_SIGN_OUT_SECONDS = int(os.environ.get("OPENNRM_IDLE_SIGN_OUT_SECONDS", str(15 * 60)))
IDLE_WARNING_SECONDS = int(os.environ.get("OPENNRM_IDLE_WARNING_SECONDS", str(2 * 60)))
# Lock-out: this many failed sign-ins (password or code) for one username within the window lock it
# for SIGN_IN_LOCK_SECONDS; the same for one client address at a higher count (0 turns that off).
SIGN_IN_FAILURE_LIMIT = int(os.environ.get("OPENNRM_SIGN_IN_FAILURE_LIMIT", "5"))
SIGN_IN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("OPENNRM_SIGN_IN_ADDRESS_FAILURE_LIMIT", "30"))
SIGN_IN_FAILURE_WINDOW_SECONDS = int(os.environ.get("OPENNRM_SIGN_IN_FAILURE_WINDOW_SECONDS", str(15 * 60)))
SIGN_IN_LOCK_SECONDS = int(os.environ.get("OPENNRM_SIGN_IN_LOCK_SECONDS", str(15 * 60)))

API_TOKEN_LIFETIME_SECONDS = int(os.environ.get("OPENNRM_API_TOKEN_LIFETIME_SECONDS", str(8 * 60 * 60)))

# The dashboard summary's covering indexes (INCLUDE) are for PostgreSQL; SQLite, for development and tests, makes plain ones.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# The dashboard's summary of deadlines and decisions is refreshed by the worker when a view finds it older than this.
DASHBOARD_REFRESH_SECONDS = int(os.environ.get("OPENNRM_DASHBOARD_REFRESH_SECONDS", "300"))

TASKS = {
    "default": {
        "BACKEND": os.environ.get("OPENNRM_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        # "linkage": duplicate detection's checks, run by a worker of their own which holds the identity index in
        # memory, so that building it never delays a notification (ADR 0014).
        "QUEUES": ["default", "linkage"],
    }
}
# The worker's recurring work, each queued (tonight, or now if overdue) by `opennrm serve` before it starts: named
# here rather than imported by core/management/commands/serve.py, so that core stays below the domains (issue 23).
RECURRING_WORK = [
    "opennrm.decisions.tasks.deadline_work_schedule",  # the deadline sweep and its reminders (ADR 0007)
    "opennrm.linkage.tasks.linkage_work_schedule",  # duplicate checks a crash left unqueued, then nightly (ADR 0014)
    "opennrm.audit.tasks.audit_checkpoint_schedule",  # the signed checkpoint of the audit trail (ADR 0027)
    "opennrm.api.tasks.idempotency_prune_schedule",  # the API's Idempotency-Key records past their retention
]
# The queue of duplicate detection's own worker (linkage/tasks.py LINKAGE_QUEUE), which `opennrm serve` starts.
LINKAGE_QUEUE = "linkage"

# Email: written to files under var/mail unless OPENNRM_EMAIL_BACKEND names the SMTP backend (or another).
_EMAIL_BACKEND = os.environ.get("OPENNRM_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": {
            "host": os.environ.get("OPENNRM_EMAIL_HOST", "127.0.0.1"),
            "port": int(os.environ.get("OPENNRM_EMAIL_PORT", "25")),
            # A mail server that accepts the connection and then hangs must not hold the worker (and its row lock) for ever.
            "timeout": 10,
        }
        if _EMAIL_BACKEND.endswith("smtp.EmailBackend")
        else {"file_path": str(VAR_DIR / "mail")}
        if _EMAIL_BACKEND.endswith("filebased.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("OPENNRM_FROM_EMAIL", "OpenNRM <no-reply@opennrm.invalid>")
# Where users reach the service: emails link to a case page under it (`make run` serves the default).
# NRM status lookups (referrals/selectors.py nrm_status_lookup), per user, counted across every server process.
# An officer checks the person in front of them: a few a shift, a family of five in a minute at most. Ten a
# minute and sixty an hour are never reached by that work, and stop a script sweeping references (fifty in
# under two seconds were tried). 0 turns a window off.
NRM_STATUS_LOOKUPS_PER_MINUTE = int(os.environ.get("OPENNRM_NRM_STATUS_LOOKUPS_PER_MINUTE", "10"))
NRM_STATUS_LOOKUPS_PER_HOUR = int(os.environ.get("OPENNRM_NRM_STATUS_LOOKUPS_PER_HOUR", "60"))
# Whom an officer asks when a lookup finds nothing (no match is not proof that no referral exists).
NRM_STATUS_CONTACT = os.environ.get(
    "OPENNRM_NRM_STATUS_CONTACT",
    "the Single Competent Authority's duty desk (email sca-duty@opennrm.invalid)",
)

# Whom a user asks when a page refuses them, is not found or fails: shown on the error pages (web/error_views.py).
# Kept apart from NRM_STATUS_CONTACT, which answers questions about a person's NRM status, not about the service.
SERVICE_DESK_CONTACT = os.environ.get(
    "OPENNRM_SERVICE_DESK_CONTACT",
    "the OpenNRM service desk (email service-desk@opennrm.invalid)",
)

OPENNRM_BASE_URL = os.environ.get("OPENNRM_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# A missed decision deadline is escalated by email while it is this many days old or less (ADR 0007).
OPENNRM_BREACH_ESCALATION_DAYS = int(os.environ.get("OPENNRM_BREACH_ESCALATION_DAYS", "30"))
# The table of the work the worker keeps queued by itself (core/schedule.py), named here so that core imports no domain.
OPENNRM_WORKER_SCHEDULE_MODEL = "decisions.WorkerSchedule"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OPENNRM_LOG_LEVEL", "WARNING")},
}

# How long a "set your password" link (an administrator's reset, a new account) works; it also stops once used.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("OPENNRM_PASSWORD_RESET_LINK_SECONDS", str(24 * 60 * 60)))
