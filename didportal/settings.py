"""Settings for didportal, read from environment variables (and an optional .env file).

Two modes:
- embedded (no variables set): SQLite, local-memory cache, console e-mail, Celery on a
  filesystem broker that needs no server;
- production-like: DATABASE_URL and REDIS_URL point at PostgreSQL and Redis.
Every variable is listed with its default in README.md.
"""

from decimal import Decimal
from pathlib import Path

import environ
from csp import constants as csp

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# DEBUG=True (the default) is the development mode: relaxed HTTPS settings, static files
# served from the apps. Django's own debug pages (tracebacks, the list of every URL on a
# 404) are a separate, explicit choice: DEBUG_PAGES=True; without it `make run` answers
# with the same friendly 404/500 pages as production.
DEVELOPMENT = env.bool("DEBUG", default=True)
DEBUG = DEVELOPMENT and env.bool("DEBUG_PAGES", default=False)
# The default key is only for the embedded mode; production must set SECRET_KEY
# (check --deploy refuses a short or "django-insecure-" key).
SECRET_KEY = env("SECRET_KEY", default="django-insecure-embedded-development-key-change-me")
# The platform's own host names. Resellers' host names live in the database
# (accounts.BrandHost, managed on the platform's reseller pages); the brand_host middleware,
# first after /healthz, admits exactly these two sets and answers 400 to any other Host
# before anything else reads it. Django's own check therefore admits "*"; the platform's
# names stay in the list (the middleware reads them from it, as do test runners that add
# theirs). See README, "Reseller host names".
PLATFORM_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
ALLOWED_HOSTS = ["*", *PLATFORM_HOSTS]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_NAME = env("SITE_NAME", default="didportal")
# Links in e-mails. `make run PORT=8080` (bin/run-embedded) exports PORT to the server and
# the Celery worker alike, so the embedded mode's links follow the port it serves on.
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_countries",
    "bootstrap",
    "axes",
    "simple_history",
    "accounts",
    "inventory",
    "catalog",
    "cart",
    "billing",
    "compliance",
    "outbox",
    "resellers",
    "payments",
    "rest_framework",
    "rest_framework_json_api",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "webhooks",
    "didportal",
]

MIDDLEWARE = [
    "didportal.middleware.healthcheck",
    "didportal.middleware.brand_host",  # refuses unknown hosts: before anything reads one
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "didportal.middleware.brand_host_user",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "didportal.urls"
WSGI_APPLICATION = "didportal.wsgi.application"
ASGI_APPLICATION = "didportal.asgi.application"

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
                "accounts.context_processors.navigation",
                "accounts.context_processors.brand",
                "cart.context_processors.cart_badge",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'didportal.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # A cache, not a dependency: an unreachable Redis is a miss (didportal/redis_cache.py),
    # found out within these timeouts, then left alone for REDIS_CACHE_RETRY_SECONDS.
    CACHES = {
        "default": {
            "BACKEND": "didportal.redis_cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CACHE_CONNECT_TIMEOUT", default=1.0),
                "socket_timeout": env.float("REDIS_CACHE_SOCKET_TIMEOUT", default=1.0),
                "retry_after": env.float("REDIS_CACHE_RETRY_SECONDS", default=5.0),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication -------------------------------------------------------------------------
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
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# Failures count under the address as sign-in matches it (case and spaces do not matter),
# and one IP is locked out after AXES_IP_FAILURE_LIMIT failures across every address.
AXES_USERNAME_CALLABLE = "accounts.throttles.axes_username"
AXES_HANDLER = "accounts.throttles.PortalAxesHandler"
AXES_IP_FAILURE_LIMIT = env.int("AXES_IP_FAILURE_LIMIT", default=30)
# Sign-ups and password-reset e-mails per hour, per e-mail address and per IP.
SIGNUPS_PER_HOUR_PER_ADDRESS = env.int("SIGNUPS_PER_HOUR_PER_ADDRESS", default=3)
SIGNUPS_PER_HOUR_PER_IP = env.int("SIGNUPS_PER_HOUR_PER_IP", default=10)
PASSWORD_RESETS_PER_HOUR_PER_ADDRESS = env.int("PASSWORD_RESETS_PER_HOUR_PER_ADDRESS", default=3)
PASSWORD_RESETS_PER_HOUR_PER_IP = env.int("PASSWORD_RESETS_PER_HOUR_PER_IP", default=20)
# Self-service sign-up confirms the address by a link: its lifetime, and e-mails per hour.
EMAIL_VERIFICATION_DAYS = env.int("EMAIL_VERIFICATION_DAYS", default=3)
EMAIL_VERIFICATION_SENDS_PER_HOUR = env.int("EMAIL_VERIFICATION_SENDS_PER_HOUR", default=5)

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): our own files only; no inline script, style attribute
# or eval (behaviour lives in static/js/portal.js, htmx is told not to inject its indicator
# style). An inline <script> must carry nonce="{{ request.csp_nonce }}".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "base-uri": [csp.SELF],
        "object-src": [csp.NONE],
    }
}
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEVELOPMENT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEVELOPMENT)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEVELOPMENT)
SECURE_HSTS_SECONDS = env.int(
    "SECURE_HSTS_SECONDS", default=0 if DEVELOPMENT else 60 * 60 * 24 * 365
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEVELOPMENT
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEVELOPMENT)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Private files (invoice PDFs, import uploads) are never served as static media.
PRIVATE_STORAGE_ROOT = env.path("PRIVATE_STORAGE_ROOT", default=VAR_DIR / "private")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEVELOPMENT
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Compliance documents (identity papers, proofs of address): private, never under a web
# root, reached only through the portal's own download view. Any Django storage works, e.g.
# an S3-compatible one (COMPLIANCE_STORAGE_BACKEND=storages.backends.s3.S3Storage, with its
# own settings), as long as it is not publicly readable.
STORAGES["compliance"] = {
    "BACKEND": env(
        "COMPLIANCE_STORAGE_BACKEND", default="compliance.storage.PrivateFileSystemStorage"
    ),
    "OPTIONS": (
        {}
        if env("COMPLIANCE_STORAGE_BACKEND", default="")
        else {"location": str(PRIVATE_STORAGE_ROOT("compliance")), "base_url": None}
    ),
}
COMPLIANCE_DOCUMENT_MAX_BYTES = env.int("COMPLIANCE_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
# ClamAV's clamd (e.g. tcp://127.0.0.1:3310): uploads are scanned when set, refused if infected.
CLAMD_URL = env("CLAMD_URL", default="")
CLAMD_TIMEOUT = env.float("CLAMD_TIMEOUT", default=30)
# Days before a registration's deadline when its reminder e-mail goes out.
REGISTRATION_REMINDER_DAYS = env.int("REGISTRATION_REMINDER_DAYS", default=3)
# Least time a customer has to fix a rejected registration before its numbers' deadline:
# a deadline that passed while the registration was under review, or is nearer, moves out.
REGISTRATION_FIX_DAYS = env.int("REGISTRATION_FIX_DAYS", default=3)
# Development: WhiteNoise serves static files straight from the apps (no collectstatic).
WHITENOISE_USE_FINDERS = DEVELOPMENT
WHITENOISE_AUTOREFRESH = DEVELOPMENT
MEDIA_ROOT = PRIVATE_STORAGE_ROOT

# --- E-mail -------------------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="didportal <noreply@didportal.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)  # seconds; a send holds its outbox row
# The outbox (outbox app): attempts before an e-mail is given up, and the backoff between
# them (1, 2, 4, … minutes, at most OUTBOX_RETRY_MAX_SECONDS).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=6 * 3600)

# --- Forms --------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
MESSAGE_TAGS = {40: "danger"}  # Bootstrap's name for the error colour

# --- Celery -------------------------------------------------------------------------------
# With REDIS_URL: Redis broker. Without: kombu's filesystem transport, which needs no server;
# `make run` starts a worker with an embedded beat on it.
CELERY_BROKER_DIR = VAR_DIR / "celery"
# Without socket timeouts a publish to a Redis that stopped answering waits forever, inside
# the web request that enqueues; with them it fails within seconds and the periodic jobs
# (and the outbox flush) pick the work up from the database.
REDIS_BROKER_TIMEOUTS = {
    "socket_connect_timeout": env.float("REDIS_BROKER_CONNECT_TIMEOUT", default=2.0),
    "socket_timeout": env.float("REDIS_BROKER_SOCKET_TIMEOUT", default=3.0),
}
if REDIS_URL:
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, **REDIS_BROKER_TIMEOUTS}
else:
    CELERY_BROKER_URL = "filesystem://"
    # The folders must exist before anything is enqueued (seed_demo runs before the worker).
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# The periodic jobs are listed in didportal/celery.py.

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}},
}

# --- Product settings ---------------------------------------------------------------------
PLATFORM_NAME = env("PLATFORM_NAME", default="DIDPortal Carrier")
PLATFORM_COUNTRY = env("PLATFORM_COUNTRY", default="NL")
# Confirm EU VAT numbers with VIES before a reverse charge (billing.vies); never blocks a sale.
VIES_ENABLED = env.bool("VIES_ENABLED", default=False)
VIES_TIMEOUT = env.float("VIES_TIMEOUT", default=5.0)
VIES_CACHE_SECONDS = env.int("VIES_CACHE_SECONDS", default=86400)
VIES_RETRY_SECONDS = env.int("VIES_RETRY_SECONDS", default=600)
DEFAULT_CURRENCY = "USD"
# Days a number stays on hold (owner kept, routing unreachable) before it is released.
DID_HOLD_DAYS = env.int("DID_HOLD_DAYS", default=30)
# Most numbers one "add numbers" request may create.
DID_ADD_MAX = env.int("DID_ADD_MAX", default=100_000)
# The DID import: upload cap, the size up to which a file is checked and imported in the
# request (larger files go to a Celery job), and how many row errors the preview lists.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=100 * 1024 * 1024)
IMPORT_INLINE_MAX_BYTES = env.int("IMPORT_INLINE_MAX_BYTES", default=2 * 1024 * 1024)
IMPORT_ERRORS_SHOWN = env.int("IMPORT_ERRORS_SHOWN", default=500)
# An .xlsx is read cell by cell and refused as soon as it passes one of these (bounded memory).
IMPORT_XLSX_MAX_COLUMNS = env.int("IMPORT_XLSX_MAX_COLUMNS", default=64)
IMPORT_XLSX_MAX_ROWS = env.int("IMPORT_XLSX_MAX_ROWS", default=1_048_576)
IMPORT_XLSX_MAX_CELLS = env.int("IMPORT_XLSX_MAX_CELLS", default=20_000_000)
# Minutes a number put in a cart stays held for that cart (released by a minute job after).
CART_HOLD_MINUTES = env.int("CART_HOLD_MINUTES", default=15)
# Cart holds per account: unfunded (balance below MIN_PURCHASE_BALANCE) hold a few numbers and
# hold each again a limited number of times; funded accounts hold up to CART_HOLDS_FUNDED.
CART_HOLDS_UNFUNDED = env.int("CART_HOLDS_UNFUNDED", default=3)
CART_HOLD_RENEWALS_UNFUNDED = env.int("CART_HOLD_RENEWALS_UNFUNDED", default=1)
CART_HOLDS_FUNDED = env.int("CART_HOLDS_FUNDED", default=50)
# One-time confirmation codes e-mailed to users (checkout's transaction code): lifetime,
# wrong attempts allowed, the least time between two sends, and most sends per hour.
CONFIRMATION_CODE_MINUTES = env.int("CONFIRMATION_CODE_MINUTES", default=10)
CONFIRMATION_CODE_MAX_ATTEMPTS = env.int("CONFIRMATION_CODE_MAX_ATTEMPTS", default=5)
CONFIRMATION_CODE_RESEND_SECONDS = env.int("CONFIRMATION_CODE_RESEND_SECONDS", default=30)
CONFIRMATION_CODE_SENDS_PER_HOUR = env.int("CONFIRMATION_CODE_SENDS_PER_HOUR", default=10)
# The prepaid balance an account needs before it may buy numbers.
MIN_PURCHASE_BALANCE = Decimal(env("MIN_PURCHASE_BALANCE", default="50.00"))
# Checkout asks for a 6-digit code e-mailed to the buyer: always when required, and for
# any order whose total is above CHECKOUT_CODE_ABOVE.
CHECKOUT_CODE_REQUIRED = env.bool("CHECKOUT_CODE_REQUIRED", default=False)
CHECKOUT_CODE_ABOVE = Decimal(env("CHECKOUT_CODE_ABOVE", default="500.00"))
# Resellers' brands: logo upload cap (bytes, pixels), and how long the host registry is
# cached (every change drops it at once; the time bounds a missed drop).
BRAND_LOGO_MAX_BYTES = env.int("BRAND_LOGO_MAX_BYTES", default=200 * 1024)
BRAND_LOGO_MAX_PIXELS = (
    env.int("BRAND_LOGO_MAX_WIDTH", default=1200),
    env.int("BRAND_LOGO_MAX_HEIGHT", default=600),
)
BRAND_HOSTS_CACHE_SECONDS = env.int("BRAND_HOSTS_CACHE_SECONDS", default=60)
# Card payments through Stripe. With no secret key, card payment is hidden and customers
# top up by bank transfer. STRIPE_API_BASE is for tests (a local fake of Stripe's API).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=20)
# Where Stripe's hosted payment page is served: the top-up form may post to us and be sent
# on there (the Content-Security-Policy's form-action also covers redirects).
STRIPE_CHECKOUT_ORIGIN = env("STRIPE_CHECKOUT_ORIGIN", default="https://checkout.stripe.com")
# A webhook signed longer ago than this is refused (a replayed old event).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Webhook calls whose signature does not verify (anybody can send them) kept as log rows,
# per seller and minute; the rest go to the server log only.
WEBHOOK_UNVERIFIED_LOGGED_PER_MINUTE = env.int("WEBHOOK_UNVERIFIED_LOGGED_PER_MINUTE", default=30)
# The least a first top-up may be (later ones: at least 1.00).
CARD_TOPUP_FIRST_MINIMUM = Decimal(env("CARD_TOPUP_FIRST_MINIMUM", default="50.00"))
CARD_TOPUP_MAXIMUM = Decimal(env("CARD_TOPUP_MAXIMUM", default="10000.00"))
# While a card payment for a cart is open, the cart's holds last this much longer (once).
CARD_PAYMENT_HOLD_MINUTES = env.int("CARD_PAYMENT_HOLD_MINUTES", default=30)
# Card payments a customer may start in an hour without paying them (canceled, expired, open).
CARD_PAYMENTS_UNPAID_PER_HOUR = env.int("CARD_PAYMENTS_UNPAID_PER_HOUR", default=5)
# Auto top-up: saved-card charges tried per account per day, at most.
AUTO_TOPUP_ATTEMPTS_PER_DAY = env.int("AUTO_TOPUP_ATTEMPTS_PER_DAY", default=2)
# Fernet keys for secrets stored in the database (resellers' Stripe keys), newest first.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# Bank statements: the largest file accepted.
BANK_STATEMENT_MAX_BYTES = env.int("BANK_STATEMENT_MAX_BYTES", default=5 * 1024 * 1024)
# Shown to customers who top up by bank transfer.
BILLING_BANK_DETAILS = env(
    "BILLING_BANK_DETAILS", default="IBAN NL00 DEMO 0000 0000 00, BIC DEMONL2A"
)

# --- REST API (/v3/, DIDWW API v3 compatible) --------------------------------------------
# JSON:API documents, Api-Key header authentication, per-key rate limits. Field names stay
# snake_case as DIDWW sends them; the resource type names are set on each serializer.
REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_PARSER_CLASSES": ("api.parsers.JsonApiParser",),
    "DEFAULT_RENDERER_CLASSES": ("api.linkage.IncludedLinkageRenderer",),
    "DEFAULT_METADATA_CLASS": "rest_framework_json_api.metadata.JSONAPIMetadata",
    "DEFAULT_FILTER_BACKENDS": (
        "rest_framework_json_api.filters.QueryParameterValidationFilter",
        "rest_framework_json_api.filters.OrderingFilter",
        "rest_framework_json_api.django_filters.DjangoFilterBackend",
    ),
    "DEFAULT_AUTHENTICATION_CLASSES": ("api.authentication.ApiKeyAuthentication",),
    "DEFAULT_PERMISSION_CLASSES": ("api.permissions.KeyScope",),
    "DEFAULT_THROTTLE_CLASSES": ("api.throttling.PerKeyRateThrottle",),
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_RATE_LIMIT", default="600/min")},
    "DEFAULT_SCHEMA_CLASS": "api.schema.JsonApiAutoSchema",
    "ORDERING_PARAM": "sort",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_RENDERER_CLASSES": ("rest_framework_json_api.renderers.JSONRenderer",),
    "TEST_REQUEST_DEFAULT_FORMAT": "vnd.api+json",
}
JSON_API_PLURALIZE_TYPES = False
# drf-spectacular's deploy check builds the document with its default settings, not the ones
# /v3/openapi.json is built with (api.schema.SPECTACULAR), and warns about what those leave
# out; tests/api/test_openapi.py builds the real document and fails on any warning instead.
SPECTACULAR_SETTINGS = {"ENABLE_DJANGO_DEPLOY_CHECK": False}
# The largest page a list returns (page[size]); DIDWW's default is 50 and its maximum 100.
API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=50)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=100)
# API keys: active keys per account; wrong Api-Key headers one address may send in a window
# before it is answered 429 (api/throttling.py).
API_KEYS_PER_ACCOUNT = env.int("API_KEYS_PER_ACCOUNT", default=25)
API_BAD_KEYS_PER_IP = env.int("API_BAD_KEYS_PER_IP", default=30)
API_BAD_KEY_WINDOW_SECONDS = env.int("API_BAD_KEY_WINDOW_SECONDS", default=600)
# Webhooks and order callbacks: URLs at private, loopback or link-local addresses are refused
# (SSRF) unless this is set, for development against a local receiver.
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# Seconds one delivery may take (connect, send, read the answer's start).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5)
# Deliveries given up in a row (each after about a day of retries) before an endpoint is
# disabled and its account's admins are e-mailed.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=5)
# Days the delivery log keeps delivered and given-up deliveries.
WEBHOOK_LOG_DAYS = env.int("WEBHOOK_LOG_DAYS", default=30)
