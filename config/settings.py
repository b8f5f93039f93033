"""Yhdessä settings: one file, configured by the environment (12-factor).

With nothing configured the app uses the embedded PostgreSQL and Redis that
``config.devservices`` starts inside the project.  Production sets
``YHDESSA_ENV=production`` plus ``SECRET_KEY``, ``DATABASE_URL``, ``REDIS_URL``
and ``YHDESSA_BASE_DOMAIN`` (see docs/operations.md).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import dj_database_url
import django
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from config import devservices

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ENVIRONMENT = os.environ.get("YHDESSA_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
TESTING = env_bool("YHDESSA_TESTING")

DEBUG = env_bool("DEBUG", default=not PRODUCTION and not TESTING)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set in production.")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"

# Municipalities are served at <slug>.<BASE_DOMAIN>; the bare BASE_DOMAIN is the public site.
BASE_DOMAIN = os.environ.get("YHDESSA_BASE_DOMAIN", "localhost")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or [BASE_DOMAIN, f".{BASE_DOMAIN}", "127.0.0.1"]

# --- Applications -------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "welfare.municipalities",  # Municipality (tenant) and Domain: public schema
    "welfare.accounts",  # users are shared across municipalities (domain.md A2)
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.admin",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",  # single sign-on per municipality (docs/sso.md)
    "allauth.socialaccount.providers.saml",
    "allauth.socialaccount.providers.openid_connect",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_htmx",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "welfare",
    "annualclock",
    "groupsessions",
    "absences",
    "parentevenings",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "municipalities.Municipality"
TENANT_DOMAIN_MODEL = "municipalities.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls"
# An unknown host gets the normal 404 page (even with DEBUG on), in the visitor's language.
DEFAULT_NOT_FOUND_TENANT_VIEW = "welfare.views.unknown_municipality"
# search_path is set once per request, not on every cursor (anchors.md D1).
TENANT_LIMIT_SET_CALLS = True
# Host → municipality lookups kept per process (welfare.middleware.CachedTenantMiddleware).
TENANT_CACHE_SECONDS = int(os.environ.get("TENANT_CACHE_SECONDS", "0" if TESTING else "30"))
# Skip schemas with nothing to migrate: a no-op deploy over 300 municipalities takes 2–3 s
# instead of 16–30 s (bench: migrate_noop). Executors: standard or multiprocessing.
GET_EXECUTOR_FUNCTION = "django_tenants_smart_executor.load_executor"
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(os.environ.get("TENANT_MULTIPROCESSING_MAX_PROCESSES", "4"))

MIDDLEWARE = [
    "welfare.middleware.RequestIdMiddleware",
    "welfare.middleware.CachedTenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "welfare.middleware.SessionTouchMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
    "welfare.mfa.MfaEnrollmentMiddleware",
]

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
                "csp.context_processors.nonce",
                "welfare.context_processors.shell",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or devservices.embedded_database_url()
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")))
_db["ENGINE"] = "django_tenants.postgresql_backend"
_query = parse_qs(urlparse(DATABASE_URL).query)
if "host" in _query and not _db.get("HOST"):
    _db["HOST"] = _query["host"][0]  # unix socket directory of the embedded server
_db.setdefault("OPTIONS", {})
if env_bool("DATABASE_POOL"):
    # In-process psycopg pool (needs CONN_MAX_AGE=0). Safe with schemas: django-tenants
    # re-sets search_path after each checkout (tests/test_tenancy.py proves it).
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"]["pool"] = {"min_size": 1, "max_size": int(os.environ.get("DATABASE_POOL_SIZE", "10"))}
_db["TEST"] = {"NAME": "test_yhdessa" + os.environ.get("YHDESSA_TEST_DB_SUFFIX", "")}
DATABASES = {"default": _db}
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL") or devservices.embedded_redis_url()


def _celery_url(redis_url: str, db: int) -> str:
    """Kombu spells a unix-socket Redis as redis+socket://."""
    parsed = urlparse(redis_url)
    if parsed.scheme == "unix":
        return f"redis+socket://{parsed.path}?virtual_host={db}"
    return parsed._replace(path=f"/{db}", query="").geturl()


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or _celery_url(REDIS_URL, 1)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or _celery_url(REDIS_URL, 2)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/Helsinki"
CELERY_BEAT_SCHEDULE = {
    # One dispatcher fans out a task per ready municipality (anchors.md D3).
    "heartbeat": {
        "task": "welfare.tasks.record_heartbeat",
        "schedule": timedelta(minutes=1),
    },
    "nightly-maintenance": {
        "task": "welfare.tasks.dispatch_nightly",
        "schedule": crontab(hour=2, minute=15),
    },
    # The notification outbox's safety net: pending e-mails of every ready municipality.
    "deliver-notifications": {
        "task": "welfare.tasks.dispatch_notifications",
        "schedule": timedelta(minutes=1),
    },
}

# Nightly per-municipality jobs of the module apps, sent by welfare.tasks.nightly_for_municipality
# (each is idempotent and takes its own per-schema lock where two runs must not overlap).
NIGHTLY_MUNICIPALITY_TASKS = [
    "welfare.tasks.delete_expired_documents",
    "absences.tasks.evaluate_municipality_task",
    "groupsessions.tasks.sync_cohort_task",
    "annualclock.tasks.nightly_reminders",
    "annualclock.tasks.rebuild_rollup",
    "parentevenings.tasks.nightly_maintenance",
]
# What other modules show on a school's annual clock (read-only rings): dotted paths of
# functions ``(school_id: int, start: date, end: date) -> list[welfare.clock.ClockEntry]``.
ANNUAL_CLOCK_PROVIDERS = [
    "groupsessions.clock.clock_entries",
    "parentevenings.clock.clock_entries",
]
# The dashboards' panels: functions (welfare.dashboard.DashboardScope) -> list[Panel], in page order.
DASHBOARD_PANELS = [
    "absences.dashboard.panels",
    "annualclock.dashboard.panels",
    "groupsessions.dashboard.panels",
    "parentevenings.dashboard.panels",
]

# Panels are cached under their rollups' version (welfare.dashboard); off in tests unless a test
# switches it on, so that test data never meets another run's cached panels.
DASHBOARD_CACHE = env_bool("DASHBOARD_CACHE", default=not TESTING)

# Each module app's demo data, seeded by welfare.services.demo.seed_demo (idempotent functions).
DEMO_MODULE_SEEDS = [
    "absences.demo.seed",
    "annualclock.demo.seed",
    "groupsessions.demo.seed",
    "parentevenings.demo.seed",
]

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
# Staff are invited by a municipal admin: the adapter closes sign-up (allauth has no setting for it).
ACCOUNT_ADAPTER = "welfare.adapters.AccountAdapter"
# One lockout story (docs/privacy.md "Sign-in"): django-axes locks an account on an address after
# AXES_FAILURE_LIMIT failures; allauth's own login-failure limit is off so the two never disagree.
# allauth still limits password-reset mails, email confirmations and reauthentication.
ACCOUNT_RATE_LIMITS = {"login_failed": None}
# Single sign-on: identity providers are SocialApp rows (public schema), each tied to one
# municipality; the adapter admits only invited staff holding a role there (docs/sso.md).
SOCIALACCOUNT_ADAPTER = "welfare.adapters.SocialAccountAdapter"
SOCIALACCOUNT_ONLY = False  # password sign-in stays for municipalities without SSO
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # linking is done by the adapter, after its checks
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "account_login"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Account and address together: a school behind one NAT address is not locked out by one person's
# typos, and nobody can lock a colleague out from elsewhere just by knowing their (public) email.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "welfare.adapters.axes_username"  # allauth authenticates with email=
AXES_CLIENT_IP_CALLABLE = "welfare.adapters.axes_client_ip"  # the address the audit log records
AXES_LOCKOUT_CALLABLE = "welfare.adapters.lockout_response"  # the sign-in page with the reason, 429
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Yhdessä"
# A code typed as its 30-second window ends is still accepted in the next window (RFC 6238
# §5.2: one step of transmission delay); a used code stays refused while it is accepted, in every
# municipality (welfare.mfa.remember_used_codes_while_valid).
MFA_TOTP_TOLERANCE = 1
# Opening a confidential record asks for the second factor again after this many minutes
# (a municipality may set its own value in MunicipalSettings).
STEP_UP_MINUTES = int(os.environ.get("STEP_UP_MINUTES", "15"))
AUDIT_TRUST_X_FORWARDED_FOR = env_bool("AUDIT_TRUST_X_FORWARDED_FOR", default=PRODUCTION)
# How many of our own proxies append to X-Forwarded-For (the client's address is the entry the
# first of them added, counted from the right).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1"))
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
# The age counts from the last activity (inactivity expiry): SessionTouchMiddleware saves the
# session again once a minute while it is in use, instead of a write on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = int(os.environ.get("SESSION_TOUCH_SECONDS", "60"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min"},
    # A service's django ValidationError is a 400 like DRF's own (welfare.api_errors).
    "EXCEPTION_HANDLER": "welfare.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yhdessä API",
    "DESCRIPTION": "Student-welfare work of one municipality. Every endpoint is scoped to the "
    "municipality whose host serves it.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every app has its "status" and "kind" choices: one clear enum name each.
    "ENUM_NAME_OVERRIDES": {
        "AbsenceImportKindEnum": "absences.models.AbsenceImport.Kind",
        "AbsenceImportStatusEnum": "absences.models.AbsenceImport.Status",
        "AbsenceCaseStatusEnum": "absences.models.AbsenceCase.Status",
        "EscalationKindEnum": "absences.models.Escalation.Kind",
        "CaseEntryKindEnum": "absences.models.CaseEntry.Kind",
        "ActivityStatusEnum": "annualclock.models.Status",
        "FeedKindEnum": "annualclock.models.FeedToken.Kind",
        "InterpreterKindEnum": "parentevenings.models.InterpreterBooking.Kind",
        "GuardianMessageKindEnum": "parentevenings.models.GuardianMessage.Kind",
        "GuardianMessageStatusEnum": "parentevenings.models.GuardianMessage.Status",
        "SessionStatusEnum": "groupsessions.models.SessionStatus",
        "BookingStatusEnum": "parentevenings.models.BookingStatus",
        "RegistrationStatusEnum": "parentevenings.models.RegistrationStatus",
        "EveningStatusEnum": "parentevenings.models.EveningStatus",
        "TranslationStatusEnum": "parentevenings.models.TranslationStatus",
    },
}

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Helsinki"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / ".media"))
MEDIA_URL = "/media/"

# --- Security -------------------------------------------------------------------
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    CSRF_TRUSTED_ORIGINS = [f"https://*.{BASE_DOMAIN}", f"https://{BASE_DOMAIN}"]

from csp.constants import NONCE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # SAML POST binding and OIDC redirects leave for the municipality's identity provider.
        "form-action": [SELF, *env_list("SSO_FORM_ACTION", "https://login.microsoftonline.com")],
        "frame-ancestors": ["'none'"],
        "base-uri": [SELF],
        "object-src": ["'none'"],
    }
}

# --- Email ----------------------------------------------------------------------
_email_backend = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
_email_options = {}
if _email_backend.endswith("smtp.EmailBackend"):
    _email_options = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "587")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", default=True),
        "timeout": int(os.environ.get("EMAIL_TIMEOUT", "20")),
    }
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
else:  # Django 5.2 LTS on Python 3.11
    EMAIL_BACKEND = _email_backend
    if _email_options:
        EMAIL_HOST, EMAIL_PORT = _email_options["host"], _email_options["port"]
        EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _email_options["username"], _email_options["password"]
        EMAIL_USE_TLS, EMAIL_TIMEOUT = _email_options["use_tls"], _email_options["timeout"]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"Yhdessä <no-reply@{BASE_DOMAIN}>")

# --- Logging --------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"},
                "django_tenants_smart_executor": {"level": "ERROR"}},
}

# --- Yhdessä ----------------------------------------------------------------------
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "yhdessa-demo-2026")
# One TOTP secret shared by the demo users, so a person can add it to an authenticator app.
DEMO_TOTP_SECRET = os.environ.get("DEMO_TOTP_SECRET", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
