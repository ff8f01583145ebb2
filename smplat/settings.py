"""Settings for smplat reports.

Everything comes from environment variables (a ``.env`` file in the checkout is read when
present); production differs from development only by its environment. See README.md for
every variable, its meaning and its default.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


class _Env(environ.Env):
    """django-environ, where a value that does not parse (EXPORT_BATCH_SIZE=ten) names its
    variable instead of failing with a bare ValueError."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ValueError as exc:
            kind = getattr(cast, "__name__", "value")
            raise ImproperlyConfigured(
                f"{var}={self.ENVIRON.get(var)!r} is not a valid {kind}"
            ) from exc


env = _Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _bool(name: str, default: bool) -> bool:
    """A strict boolean: a typo such as DEBUG=ture fails loudly instead of meaning False."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


DEBUG = _bool("DEBUG", False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=true for local development)"
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"  # noqa: S105

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "reports.pages.admin_site.OperationsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # OpClass in index expressions (reports: the provider search indexes).
    "django.contrib.postgres",
    "rest_framework",
    "django_tasks",
    "django_tasks_db",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "smplat.api.apps.ApiConfig",
    "smplat.audit.apps.AuditConfig",
    "telemetry",
    "reports",
    "exports",
]

MIDDLEWARE = [
    # First: every response, redirects and errors included, carries X-Request-ID and is logged.
    "smplat.logs.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a body (the CSRF check parses forms, files included).
    "smplat.bodylimit.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "smplat.urls"
WSGI_APPLICATION = "smplat.wsgi.application"
ASGI_APPLICATION = "smplat.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# --- Database -----------------------------------------------------------------------------
# DATABASE_URL when set; otherwise the embedded PostgreSQL under EMBEDDED_POSTGRES_DIR
# (never another engine: development, tests and production all run PostgreSQL).
EMBEDDED_POSTGRES_DIR = Path(
    env.str("EMBEDDED_POSTGRES_DIR", default=str(BASE_DIR / ".data" / "postgres"))
)
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    from smplat.embedded_db import embedded_database_url

    DATABASES = {"default": env.db_url_config(embedded_database_url(EMBEDDED_POSTGRES_DIR))}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...)")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("application_name", "smplat-reports")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# Dates on admin pages as on the operator pages: ISO, in UTC, the zone said (smplat/formats).
FORMAT_MODULE_PATH = ["smplat.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "admin:login"

# --- Security -------------------------------------------------------------------------------
# Secure by default: every production-only protection is on unless DEBUG is.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe plain HTTP: the health check answers there instead of redirecting.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# HSTS preload (W021) is a submission to the browsers' list that binds every subdomain for
# months: the domain's owner opts in with SECURE_HSTS_PRELOAD=true, it is not a default.
SILENCED_SYSTEM_CHECKS = env.list(
    "SILENCED_SYSTEM_CHECKS", default=[] if SECURE_HSTS_PRELOAD else ["security.W021"]
)

# --- API ------------------------------------------------------------------------------------
# The key machine clients present as "Authorization: Bearer <key>" or "X-API-Key: <key>".
CHECKOUT_API_KEY = env.str("CHECKOUT_API_KEY", default="")
# Request bodies of the capture and ingest routes above this size are refused with 413.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)


def _rate(name: str, default: str) -> tuple[int, int]:
    """A rate such as ``600/minute`` as (600, 60 seconds); a typo fails loudly."""
    raw = env.str(name, default=default)
    count, _, period = raw.partition("/")
    period = period.strip().lower()
    seconds = {"s": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
    if not count.strip().isdigit() or int(count) < 1 or period not in seconds:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate: requests/second|minute|hour, e.g. 600/minute"
        )
    return int(count), seconds[period]


# Rate limits of the ingest routes (capture and analytics POSTs): per key (an ApiKey's own
# ingest_rate_per_minute wins), and per client address for staff sessions. Counted in the
# default cache (CACHE_URL): use a shared one (Redis) when several web processes serve.
API_INGEST_RATE_PER_KEY = _rate("API_INGEST_RATE_PER_KEY", "6000/minute")
API_INGEST_RATE_PER_ADDRESS = _rate("API_INGEST_RATE_PER_ADDRESS", "600/minute")
# Reverse proxies in front of the site that append to X-Forwarded-For: the client address
# (rate limits, audit trail) is the one they saw. 0: the socket's peer, nothing forgeable.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")

# Bearer token Prometheus presents at /metrics; unset, /metrics answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# The cache: per-process memory unless CACHE_URL names a shared one (redis://host:6379/0).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "smplat.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["smplat.api.permissions.IsApiClientOrStaff"],
    "DEFAULT_THROTTLE_CLASSES": ["smplat.api.throttling.IngestRateThrottle"],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_PARSER_CLASSES": ["smplat.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "smplat.api.params.IgnoreClientContentNegotiation",
    "EXCEPTION_HANDLER": "smplat.api.exceptions.json_error_handler",
    "DEFAULT_SCHEMA_CLASS": "smplat.api.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `format` is a query parameter of our own (format=csv), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "smplat reports API",
    "DESCRIPTION": (
        "Reporting, telemetry capture and export routes of smplat reports, grouped by area."
        " Staff: [back to the admin](/admin/) and its operator pages."
    ),
    # Tags by area (the path's first part after /api/ and /api/v1/), not one "v1" tag;
    # the staff-session routes of the operator pages get their own (smplat/api/schema.py).
    "SCHEMA_PATH_PREFIX": r"/api(/v[0-9]+)?",
    "TAGS": [
        {"name": "reporting", "description": "Guardrail follow-ups and experiment events."},
        {"name": "analytics", "description": "Checkout offer and onboarding events (ingest)."},
        {"name": "orders", "description": "An order's onboarding journey."},
        {"name": "fulfillment", "description": "Provider automation runs."},
        {"name": "telemetry", "description": "Quick-order and workflow capture, NDJSON exports."},
        {
            "name": "operator pages",
            "description": "Staff session only: the downloads and run-now of /admin/reports/.",
        },
    ],
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1: a nullable nested object becomes oneOf [$ref, null]. In 3.0 drf-spectacular writes
    # ``nullable`` beside an allOf $ref, which 3.0 validators ignore (nullable needs a type
    # in the same schema object), so real responses carrying null failed validation.
    "OAS_VERSION": "3.1.0",
    # Swagger UI's assets come from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
# plain: one readable line; json: one JSON object per line, for a log pipeline.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain").lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "smplat.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"},
        "json": {"()": "smplat.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler as well as the root's printed every django.* line
        # twice ("Watching for file changes with StatReloader"): the root's handler only.
        "django": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
        # urllib3's retry warnings print the URL's path: a webhook's secret.
        "urllib3": {"level": "ERROR"},
        "pgserver": {"level": "WARNING"},
    },
}

# --- Exports --------------------------------------------------------------------------------
# The export engine (exports/): see README.md "## Exports". Names the runbooks use are kept.
# Rows per batch: one webhook POST, one S3 object, one cursor checkpoint. Unset, each sink
# has its own (exports/sinks/): 500 rows a webhook body, 10 000 for stdout, files and S3,
# which fsync or upload, and checkpoint, once a batch.
EXPORT_BATCH_SIZE = env.int("EXPORT_BATCH_SIZE", default=None)
# The fallback of the commit watermark (smplat/watermark.py): where other sessions'
# transactions cannot be seen, rows are read only up to the database's clock minus this lag.
EXPORT_SAFETY_LAG_SECONDS = env.float("EXPORT_SAFETY_LAG_SECONDS", default=5.0)
# Seconds a row exporter sleeps per second of database work while other clients of the
# database are at work (smplat/pacing.py): 4 leaves them four fifths; 0 never gives way.
EXPORT_NICE_RATIO = env.float("EXPORT_NICE_RATIO", default=4.0)
EXPORT_HTTP_TIMEOUT_SECONDS = env.float("EXPORT_HTTP_TIMEOUT_SECONDS", default=10.0)
EXPORT_RETRY_ATTEMPTS = env.int("EXPORT_RETRY_ATTEMPTS", default=5)
EXPORT_RETRY_BACKOFF_SECONDS = env.float("EXPORT_RETRY_BACKOFF_SECONDS", default=1.0)
EXPORT_RETRY_MAX_DELAY_SECONDS = env.float("EXPORT_RETRY_MAX_DELAY_SECONDS", default=60.0)
# Standard Webhooks signing secret, ``whsec_<base64>``; unset: unsigned. Only that form: the
# reference standardwebhooks libraries base64-decode any string they are given, so a plain
# string would sign with one key here and verify with another at the receiver.
EXPORT_WEBHOOK_SECRET = env.str("EXPORT_WEBHOOK_SECRET", default="")


def _webhook_secret_is_valid(secret: str) -> bool:
    import base64
    import binascii

    encoded = secret.removeprefix("whsec_")
    if not secret.startswith("whsec_") or not encoded:
        return False
    try:
        # Strict, padding optional: what decodes here decodes to the same bytes in the
        # libraries' lenient decoder.
        return bool(base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True))
    except binascii.Error:
        return False


if EXPORT_WEBHOOK_SECRET and not _webhook_secret_is_valid(EXPORT_WEBHOOK_SECRET):
    # The value itself is never echoed: it is a secret.
    raise ImproperlyConfigured(
        "EXPORT_WEBHOOK_SECRET must be a Standard Webhooks secret: whsec_ followed by base64 "
        "(new: whsec_$(openssl rand -base64 32)). To keep the signing key of a plain-string "
        'secret, set whsec_ followed by its base64 (printf %s "$OLD_SECRET" | base64) and give '
        "receivers that same whsec_ string."
    )
EXPORT_STATUS_TIMEOUT_SECONDS = env.float("EXPORT_STATUS_TIMEOUT_SECONDS", default=5.0)
EXPORT_PRESIGN_SECONDS = env.int("EXPORT_PRESIGN_SECONDS", default=7 * 24 * 3600)
if (
    (EXPORT_BATCH_SIZE is not None and EXPORT_BATCH_SIZE < 1)
    or EXPORT_RETRY_ATTEMPTS < 1
    or EXPORT_SAFETY_LAG_SECONDS < 0
    or not 0 <= EXPORT_NICE_RATIO <= 100
):
    raise ImproperlyConfigured(
        "EXPORT_BATCH_SIZE and EXPORT_RETRY_ATTEMPTS must be >= 1, EXPORT_SAFETY_LAG_SECONDS"
        " >= 0, EXPORT_NICE_RATIO from 0 to 100"
    )
for _name in ("EXPORT_HTTP_TIMEOUT_SECONDS", "EXPORT_STATUS_TIMEOUT_SECONDS"):
    if globals()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name} must be positive")

# Guardrail follow-ups (export_guardrail_followups). SINK, FILE_PATH, S3_URI and CURSOR_* are
# what runs started by the site use ("Run export now"); the commands take flags instead.
ANALYTICS_GUARDRAIL_WEBHOOK = env.str("ANALYTICS_GUARDRAIL_WEBHOOK", default="")
GUARDRAIL_EXPORT_SINK = env.str("GUARDRAIL_EXPORT_SINK", default="webhook")
GUARDRAIL_EXPORT_FILE_PATH = env.str("GUARDRAIL_EXPORT_FILE_PATH", default="")
GUARDRAIL_EXPORT_S3_URI = env.str("GUARDRAIL_EXPORT_S3_URI", default="")
GUARDRAIL_EXPORT_CURSOR_PATH = env.str(
    "GUARDRAIL_EXPORT_CURSOR_PATH",
    default=str(BASE_DIR / ".data" / "exports" / "guardrail_followups_cursor.json"),
)
GUARDRAIL_EXPORT_CURSOR_S3_URI = env.str("GUARDRAIL_EXPORT_CURSOR_S3_URI", default="")
GUARDRAIL_EXPORT_STATUS_S3_URI = env.str("GUARDRAIL_EXPORT_STATUS_S3_URI", default="")
GUARDRAIL_EXPORT_STATUS_URL = env.str("GUARDRAIL_EXPORT_STATUS_URL", default="")
GUARDRAIL_EXPORT_SLACK_WEBHOOK = env.str("GUARDRAIL_EXPORT_SLACK_WEBHOOK", default="")
GUARDRAIL_EXPORT_WORKFLOW_URL = env.str("GUARDRAIL_EXPORT_WORKFLOW_URL", default="")

# Onboarding pricing-experiment segments (export_onboarding_pricing_segments[_via_api]).
ANALYTICS_SEGMENTS_WEBHOOK = env.str("ANALYTICS_SEGMENTS_WEBHOOK", default="")
ONBOARDING_EXPORT_SINK = env.str("ONBOARDING_EXPORT_SINK", default="webhook")
ONBOARDING_EXPORT_FILE_PATH = env.str("ONBOARDING_EXPORT_FILE_PATH", default="")
ONBOARDING_EXPORT_S3_URI = env.str("ONBOARDING_EXPORT_S3_URI", default="")
ONBOARDING_EXPORT_CURSOR_PATH = env.str(
    "ONBOARDING_EXPORT_CURSOR_PATH",
    default=str(BASE_DIR / ".data" / "exports" / "onboarding_export_cursor.json"),
)
ONBOARDING_EXPORT_CURSOR_S3_URI = env.str("ONBOARDING_EXPORT_CURSOR_S3_URI", default="")
ONBOARDING_EXPORT_STATUS_S3_URI = env.str("ONBOARDING_EXPORT_STATUS_S3_URI", default="")
ONBOARDING_EXPORT_STATUS_URL = env.str("ONBOARDING_EXPORT_STATUS_URL", default="")
ONBOARDING_EXPORT_SLACK_WEBHOOK = env.str("ONBOARDING_EXPORT_SLACK_WEBHOOK", default="")
ONBOARDING_EXPORT_WORKFLOW_URL = env.str("ONBOARDING_EXPORT_WORKFLOW_URL", default="")
# The reporting endpoint export_onboarding_pricing_segments_via_api walks, and its cursor.
REPORTING_API_URL = env.str("REPORTING_API_URL", default="")
ONBOARDING_EXPORT_VIA_API_CURSOR_PATH = env.str(
    "ONBOARDING_EXPORT_VIA_API_CURSOR_PATH",
    default=str(BASE_DIR / ".data" / "exports" / "onboarding_export_via_api_cursor.json"),
)

# Checkout offer events (export_offer_events).
OFFER_EVENTS_EXPORT_SLACK_WEBHOOK = env.str("OFFER_EVENTS_EXPORT_SLACK_WEBHOOK", default="")
OFFER_EVENTS_EXPORT_CURSOR_PATH = env.str(
    "OFFER_EVENTS_EXPORT_CURSOR_PATH",
    default=str(BASE_DIR / ".data" / "exports" / "offer_events_cursor.json"),
)

# Telemetry snapshots (export_quick_order_telemetry, export_guardrail_workflow_telemetry).
QUICK_ORDER_EXPORT_URL = env.str("QUICK_ORDER_EXPORT_URL", default="")
QUICK_ORDER_EXPORT_BUCKET = env.str("QUICK_ORDER_EXPORT_BUCKET", default="")
QUICK_ORDER_EXPORT_S3_PREFIX = env.str("QUICK_ORDER_EXPORT_S3_PREFIX", default="")
QUICK_ORDER_EXPORT_STATUS_S3_URI = env.str("QUICK_ORDER_EXPORT_STATUS_S3_URI", default="")
QUICK_ORDER_EXPORT_STATUS_URL = env.str("QUICK_ORDER_EXPORT_STATUS_URL", default="")
QUICK_ORDER_EXPORT_SLACK_WEBHOOK = env.str("QUICK_ORDER_EXPORT_SLACK_WEBHOOK", default="")
QUICK_ORDER_EXPORT_WORKFLOW_URL = env.str("QUICK_ORDER_EXPORT_WORKFLOW_URL", default="")
GUARDRAIL_WORKFLOW_EXPORT_URL = env.str("GUARDRAIL_WORKFLOW_EXPORT_URL", default="")
GUARDRAIL_WORKFLOW_EXPORT_BUCKET = env.str("GUARDRAIL_WORKFLOW_EXPORT_BUCKET", default="")
GUARDRAIL_WORKFLOW_EXPORT_S3_PREFIX = env.str("GUARDRAIL_WORKFLOW_EXPORT_S3_PREFIX", default="")
GUARDRAIL_WORKFLOW_EXPORT_STATUS_S3_URI = env.str(
    "GUARDRAIL_WORKFLOW_EXPORT_STATUS_S3_URI", default=""
)
GUARDRAIL_WORKFLOW_EXPORT_STATUS_URL = env.str("GUARDRAIL_WORKFLOW_EXPORT_STATUS_URL", default="")
GUARDRAIL_WORKFLOW_EXPORT_SLACK_WEBHOOK = env.str(
    "GUARDRAIL_WORKFLOW_EXPORT_SLACK_WEBHOOK", default=""
)
GUARDRAIL_WORKFLOW_EXPORT_WORKFLOW_URL = env.str(
    "GUARDRAIL_WORKFLOW_EXPORT_WORKFLOW_URL", default=""
)

# GitHub Actions sets these; a run's workflowUrl points at its Actions run when present.
GITHUB_SERVER_URL = env.str("GITHUB_SERVER_URL", default="")
GITHUB_REPOSITORY = env.str("GITHUB_REPOSITORY", default="")
GITHUB_RUN_ID = env.str("GITHUB_RUN_ID", default="")
# Read by the status helpers (exports/status.py) and the download proxy: plain http is
# only followed to the S3-compatible endpoint's host or to these hosts.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="")
EXPORT_PROXY_ALLOWED_HOSTS = env.list("EXPORT_PROXY_ALLOWED_HOSTS", default=[])
# "Download latest NDJSON" of a feed with a file sink serves the run's file only when it lies
# under this folder (symlinks resolved); unset, file sinks offer no download.
EXPORT_FILES_ROOT = env.str("EXPORT_FILES_ROOT", default="")
# Webhook delivery attempts are kept for each feed's newest runs only (the run page's table).
EXPORT_ATTEMPT_RUNS_KEPT = env.int("EXPORT_ATTEMPT_RUNS_KEPT", default=20)
# A rewind's preview counts the rows to re-send up to this many ("100 000+" beyond).
EXPORT_REWIND_COUNT_CAP = env.int("EXPORT_REWIND_COUNT_CAP", default=100_000)

# --- Telemetry monitors ---------------------------------------------------------------------
# monitor_telemetry_rollups, monitor_gdpr_audit and the /dashboard/telemetry/ badges judge
# freshness like dbt's source freshness: older than WARN_AFTER warns (exit 0), older than
# ERROR_AFTER is stale (exit 1 and one Slack alert per run to MONITOR_ALERT_WEBHOOK_URL).
MONITOR_ALERT_WEBHOOK_URL = env.str("MONITOR_ALERT_WEBHOOK_URL", default="")
MONITOR_ALERT_TIMEOUT_SECONDS = env.float("MONITOR_ALERT_TIMEOUT_SECONDS", default=10.0)
TELEMETRY_ROLLUPS_WARN_AFTER_HOURS = env.float("TELEMETRY_ROLLUPS_WARN_AFTER_HOURS", default=2.0)
TELEMETRY_ROLLUPS_ERROR_AFTER_HOURS = env.float("TELEMETRY_ROLLUPS_ERROR_AFTER_HOURS", default=6.0)
GDPR_AUDIT_WARN_AFTER_HOURS = env.float("GDPR_AUDIT_WARN_AFTER_HOURS", default=24.0)
GDPR_AUDIT_ERROR_AFTER_HOURS = env.float("GDPR_AUDIT_ERROR_AFTER_HOURS", default=48.0)
for _warn, _error in [
    ("TELEMETRY_ROLLUPS_WARN_AFTER_HOURS", "TELEMETRY_ROLLUPS_ERROR_AFTER_HOURS"),
    ("GDPR_AUDIT_WARN_AFTER_HOURS", "GDPR_AUDIT_ERROR_AFTER_HOURS"),
]:
    if not 0 < globals()[_warn] <= globals()[_error]:
        raise ImproperlyConfigured(f"{_warn} must be above 0 and at most {_error}")
if MONITOR_ALERT_TIMEOUT_SECONDS <= 0:
    raise ImproperlyConfigured("MONITOR_ALERT_TIMEOUT_SECONDS must be above 0")

# --- Operator pages -------------------------------------------------------------------------
# /admin/reports/ export-health cards: how often each feed is expected to sync. A card is
# fresh within schedule + grace, late until EXPORT_STALE_AFTER_SCHEDULES schedules, then stale.
GUARDRAIL_EXPORT_SCHEDULE_MINUTES = env.int("GUARDRAIL_EXPORT_SCHEDULE_MINUTES", default=60)
ONBOARDING_EXPORT_SCHEDULE_MINUTES = env.int("ONBOARDING_EXPORT_SCHEDULE_MINUTES", default=60)
QUICK_ORDER_EXPORT_SCHEDULE_MINUTES = env.int("QUICK_ORDER_EXPORT_SCHEDULE_MINUTES", default=30)
GUARDRAIL_WORKFLOW_EXPORT_SCHEDULE_MINUTES = env.int(
    "GUARDRAIL_WORKFLOW_EXPORT_SCHEDULE_MINUTES", default=30
)
EXPORT_FRESHNESS_GRACE_MINUTES = env.int("EXPORT_FRESHNESS_GRACE_MINUTES", default=15)
EXPORT_STALE_AFTER_SCHEDULES = env.int("EXPORT_STALE_AFTER_SCHEDULES", default=3)
# Cards read status payloads with this timeout and keep them this long in the cache.
EXPORT_CARD_STATUS_TIMEOUT_SECONDS = env.float("EXPORT_CARD_STATUS_TIMEOUT_SECONDS", default=2.0)
EXPORT_CARD_CACHE_SECONDS = env.int("EXPORT_CARD_CACHE_SECONDS", default=60)
# Export health (exports/health.py; monitor_exports, the cards, badges): a feed is failing when
# its last EXPORT_FAILING_AFTER_RUNS finished runs all failed; rows behind its cursor are
# counted exactly up to EXPORT_ROWS_BEHIND_CAP (then "cap+"). Flips alert EXPORT_ALERT_WEBHOOK_URL,
# else MONITOR_ALERT_WEBHOOK_URL, with a link to the card under SITE_URL.
EXPORT_FAILING_AFTER_RUNS = env.int("EXPORT_FAILING_AFTER_RUNS", default=1)
EXPORT_ROWS_BEHIND_CAP = env.int("EXPORT_ROWS_BEHIND_CAP", default=100_000)
EXPORT_ALERT_WEBHOOK_URL = env.str("EXPORT_ALERT_WEBHOOK_URL", default="")
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
if EXPORT_FAILING_AFTER_RUNS < 1 or EXPORT_ROWS_BEHIND_CAP < 1:
    raise ImproperlyConfigured("EXPORT_FAILING_AFTER_RUNS and EXPORT_ROWS_BEHIND_CAP must be >= 1")
if EXPORT_STALE_AFTER_SCHEDULES < 1 or EXPORT_FRESHNESS_GRACE_MINUTES < 0:
    raise ImproperlyConfigured(
        "EXPORT_STALE_AFTER_SCHEDULES must be >= 1 and EXPORT_FRESHNESS_GRACE_MINUTES >= 0"
    )
if SITE_URL and not SITE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        "SITE_URL must be the site's public origin, e.g. https://reports.example.com"
    )
# "Run export now": dispatch this workflow (GitHub's workflow_dispatch URL) with this bearer
# token; without a URL the site runs the export itself on its task queue.
GUARDRAIL_EXPORT_TRIGGER_URL = env.str("GUARDRAIL_EXPORT_TRIGGER_URL", default="")
GUARDRAIL_EXPORT_TRIGGER_TOKEN = env.str("GUARDRAIL_EXPORT_TRIGGER_TOKEN", default="")
GUARDRAIL_EXPORT_TRIGGER_REF = env.str("GUARDRAIL_EXPORT_TRIGGER_REF", default="main")
# Download proxies: the largest artifact streamed, and the upstream timeout.
EXPORT_PROXY_MAX_BYTES = env.int("EXPORT_PROXY_MAX_BYTES", default=512 * 1024 * 1024)
EXPORT_PROXY_TIMEOUT_SECONDS = env.float("EXPORT_PROXY_TIMEOUT_SECONDS", default=15.0)

# Background work ("Run export now" without a trigger URL): django-tasks' database backend,
# worked by `python manage.py db_worker` (make run starts one).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
