"""Settings for Project Catalyst, read from the environment and ``.env``.

Every name here is documented in the README's configuration table.
"""

import ipaddress
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from catalyst.stores import database_from_url, is_mongodb

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ``.env`` beside the project (``make run`` writes one for development); ``ENV_FILE``
# names another file, or none when empty (the test run reads its environment only).
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE)


def _startup_error(message: str) -> SystemExit:
    # A one-line message, not a traceback, for a misconfigured start.
    return SystemExit(f"Configuration error: {message}")


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise _startup_error("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise _startup_error("ALLOWED_HOSTS must be set when DEBUG is off.")
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

try:
    DATABASES = {"default": database_from_url(env.str("DATABASE_URL", default=""), base_dir=BASE_DIR)}
except ImproperlyConfigured as error:
    raise _startup_error(str(error)) from None

USING_MONGODB = is_mongodb(DATABASES["default"])

if USING_MONGODB:
    DEFAULT_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"
    CONTRIB_APPS = [
        "catalyst.apps.MongoAdminConfig",
        "catalyst.apps.MongoAuthConfig",
        "catalyst.apps.MongoContentTypesConfig",
    ]
    LOCKOUT_APP = "catalyst.apps.MongoAxesConfig"
    # These apps' own migrations use integer keys; MongoDB needs ObjectIds.
    MIGRATION_MODULES = {
        app: f"mongo_migrations.{app}"
        for app in ("admin", "auth", "contenttypes", "axes", "accounts", "projects", "chat")
    }
else:
    DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
    CONTRIB_APPS = [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
    ]
    LOCKOUT_APP = "axes"

INSTALLED_APPS = [
    *CONTRIB_APPS,
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "corsheaders",
    LOCKOUT_APP,
    "ninja",
    "accounts",
    "projects",
    "chat",
    "catalyst.apps.CatalystConfig",
    "django.forms",
]
# `{{ form }}` renders with templates/django/forms/div.html; Django's own widget
# templates come from the django.forms app above.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

MIDDLEWARE = [
    # First, so its time covers all the others (catalyst/metrics.py).
    "catalyst.metrics.MetricsMiddleware",
    # Early, so every later line carries the request id and its line sees every answer (catalyst/logs.py).
    "catalyst.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "catalyst.security.ContentSecurityPolicyMiddleware",
    "catalyst.middleware.StaticFilesMiddleware",
    # Above every middleware that writes a body, so it compresses what they wrote; never event streams.
    "catalyst.middleware.CompressionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.AppLoginRequiredMiddleware",
    # Last, so it sees the user and answers a lock-out itself.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "catalyst.urls"
WSGI_APPLICATION = "catalyst.wsgi.application"
ASGI_APPLICATION = "catalyst.asgi.application"

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
            "builtins": ["django_htmx.templatetags.django_htmx"],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "projects:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# Proxies whose X-Forwarded-For is believed (addresses or networks); no one else's.
try:
    TRUSTED_PROXY_NETWORKS = [
        ipaddress.ip_network(value, strict=False) for value in env.list("TRUSTED_PROXIES", default=[])
    ]
except ValueError as error:
    raise _startup_error(f"TRUSTED_PROXIES: {error}.") from None

# Brute-force protection: count failures per account and address in the cache,
# so Redis (CACHE_URL) shares lock-outs between workers.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
# Per hour: sign-up attempts per client, reset mails per address and per client.
SIGNUP_LIMIT = env.int("SIGNUP_LIMIT", default=10)
PASSWORD_RESET_LIMIT = env.int("PASSWORD_RESET_LIMIT", default=3)
PASSWORD_RESET_CLIENT_LIMIT = env.int("PASSWORD_RESET_CLIENT_LIMIT", default=10)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("LOGIN_LOCKOUT_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "catalyst.clients.login_username"
AXES_CLIENT_IP_CALLABLE = "catalyst.clients.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://catalyst")}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # One process by default (DESIGN.md); CACHE_URL=redis://… shares lock-outs.
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "catalyst.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script and no eval anywhere (htmx is configured for it in base.html); inline
# style attributes stay (progress bars), as do data: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# HTTPS only, once DEBUG is off: HSTS for a year, and plain-HTTP requests redirected (the
# health and readiness checks and the metrics excepted, for probes inside the network).
# Behind a proxy that ends TLS, set PROXY_SSL_HEADER=X-Forwarded-Proto, and make sure
# the proxy sets that header itself.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^api/health$", r"^api/ready$", r"^metrics$"]
if _proxy_ssl_header := env.str("PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
# Signed out after SESSION_IDLE_TIMEOUT seconds without a request (the session is renewed
# at most every SESSION_RENEW_INTERVAL), and SESSION_MAX_LIFETIME after signing in.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT", default=7 * 24 * 3600)
SESSION_MAX_LIFETIME = env.int("SESSION_MAX_LIFETIME", default=30 * 24 * 3600)
SESSION_RENEW_INTERVAL = 300

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="")
if not EMAIL_BACKEND:
    if not DEBUG:
        raise _startup_error(
            "EMAIL_BACKEND must be set when DEBUG is off: the default prints password-reset links to the log."
        )
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Project Catalyst <noreply@localhost>")

# AI providers (chat/providers/): AI_PROVIDER names one of AI_PROVIDERS, or auto
# (Gemini when GEMINI_API_KEY is set, else an OpenAI-compatible server when
# OPENAI_BASE_URL or OPENAI_API_KEY is, else offline). A new provider is one
# module and one entry here.
AI_PROVIDERS = {
    "gemini": "chat.providers.gemini.GeminiProvider",
    "openai": "chat.providers.openai_compatible.OpenAICompatibleProvider",
    "offline": "chat.providers.offline.OfflineProvider",
}
AI_PROVIDER = env.str("AI_PROVIDER", default="auto")
if AI_PROVIDER != "auto" and AI_PROVIDER not in AI_PROVIDERS:
    raise _startup_error(f"AI_PROVIDER must be one of auto, {', '.join(AI_PROVIDERS)}.")
GEMINI_API_KEY = env.str("GEMINI_API_KEY", default="")
GEMINI_MODEL = env.str("GEMINI_MODEL", default="gemini-2.5-flash")
GEMINI_BASE_URL = env.str("GEMINI_BASE_URL", default="")
# Any OpenAI-compatible server: OpenAI itself (the default URL), or Ollama, vLLM, llama.cpp's
# server, LM Studio at their /v1 URL; a local server needs no key.
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")

# Planning chat (chat/services.py, chat/generation.py); the README explains each.
CHAT_SEND_LIMIT = env.int("CHAT_SEND_LIMIT", default=20)
CHAT_MAX_STREAMS = env.int("CHAT_MAX_STREAMS", default=1000)
CHAT_SEND_WINDOW = env.int("CHAT_SEND_WINDOW", default=60)
CHAT_SAVE_LIMIT = env.int("CHAT_SAVE_LIMIT", default=30)
CHAT_SAVE_WINDOW = env.int("CHAT_SAVE_WINDOW", default=60)
CHAT_HISTORY_TURNS = env.int("CHAT_HISTORY_TURNS", default=10)
# Model tokens (in and out) one user may spend per UTC day; 0 leaves it unlimited.
CHAT_TOKEN_BUDGET_DAILY = env.int("CHAT_TOKEN_BUDGET_DAILY", default=0)
CHAT_PROVIDER_TIMEOUT = env.float("CHAT_PROVIDER_TIMEOUT", default=60.0)
CHAT_PROVIDER_RETRIES = env.int("CHAT_PROVIDER_RETRIES", default=2)
CHAT_PROVIDER_RETRY_BACKOFF = env.float("CHAT_PROVIDER_RETRY_BACKOFF", default=1.0)
CHAT_OFFLINE_CHUNK_DELAY = env.float("CHAT_OFFLINE_CHUNK_DELAY", default=0.02)
CHAT_FLUSH_INTERVAL = env.float("CHAT_FLUSH_INTERVAL", default=0.5)
CHAT_HEARTBEAT_INTERVAL = env.float("CHAT_HEARTBEAT_INTERVAL", default=5.0)
CHAT_POLL_INTERVAL = env.float("CHAT_POLL_INTERVAL", default=0.5)
CHAT_KEEPALIVE_INTERVAL = env.float("CHAT_KEEPALIVE_INTERVAL", default=15.0)

# Backups (manage.py backup): where they go (relative to the project folder
# unless absolute) and how many of the newest are kept (0 keeps all).
BACKUP_DIR = BASE_DIR / env.str("BACKUP_DIR", default="backups")
BACKUP_KEEP = env.int("BACKUP_KEEP", default=30)

# Logs (catalyst/logs.py): one line per request and per chat reply, each with its request id;
# LOG_FORMAT=json writes one JSON object a line, console (the default) lines for people.
LOG_FORMAT = env.str("LOG_FORMAT", default="console")
if LOG_FORMAT not in ("console", "json"):
    raise _startup_error("LOG_FORMAT must be console or json.")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "catalyst.logs.RequestContextFilter"}},
    "formatters": {
        "console": {"()": "catalyst.logs.ConsoleFormatter"},
        "json": {"()": "catalyst.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own lines through our handler only (its default adds a plain one under DEBUG).
        "django": {"handlers": [], "level": LOG_LEVEL},
        # One line per model request is noise at INFO.
        **{name: {"level": "WARNING"} for name in ("axes", "httpx", "httpx2", "httpcore", "httpcore2")},
        # Their DEBUG lines hold SQL and MongoDB commands with their values, or a model request
        # with the user's text: never logged, whatever LOG_LEVEL says.
        **{
            name: {"level": "INFO" if LOG_LEVEL in ("DEBUG", "NOTSET") else LOG_LEVEL}
            for name in ("django.db.backends", "pymongo", "openai", "google_genai")
        },
        # uvicorn's lines as JSON too; its access line repeats the request line, so it goes.
        **(
            {"uvicorn": {"handlers": [], "propagate": True}, "uvicorn.access": {"handlers": [], "level": "WARNING"}}
            if LOG_FORMAT == "json"
            else {}
        ),
    },
}

# Error tracking (catalyst/error_tracking.py): Sentry only when SENTRY_DSN is set, with no
# personal data, request bodies, cookies or headers beyond a harmless few; traces off unless a rate is set.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from catalyst.error_tracking import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

# Metrics (catalyst/metrics.py): /metrics answers the bearer METRICS_TOKEN or a client
# address in METRICS_ALLOWED_IPS (addresses or networks), and is absent (404) with neither.
# Several workers add up their figures through PROMETHEUS_MULTIPROC_DIR (prometheus-client
# reads it from the environment).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
try:
    METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(value, strict=False) for value in env.list("METRICS_ALLOWED_IPS", default=[])
    ]
except ValueError as error:
    raise _startup_error(f"METRICS_ALLOWED_IPS: {error}.") from None
