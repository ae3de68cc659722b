"""Settings, read from the environment (see the configuration table in README.md).

With no environment at all the project runs on embedded defaults: a SQLite file
and a filesystem Celery broker under var/. DEBUG is off unless asked for, and
then SECRET_KEY is required: there is no default secret in production.
"""

import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-development-only")
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.") from exc

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The chat service authenticates to /api/internal/ with this bearer token. No
# default: without it the ingest API refuses every request.
PORTAL_INGEST_TOKEN = env.str("PORTAL_INGEST_TOKEN", default="")
# Commercial accounts are governed by their organisation's agreement, not the
# consumer policy: their dashboard links here instead of showing dates.
PORTAL_COMMERCIAL_TERMS_URL = env.str(
    "PORTAL_COMMERCIAL_TERMS_URL", default="https://www.anthropic.com/legal/commercial-terms"
)

# Staff reasons (console lookups, content reveals, legal holds): when set, a
# regular expression every reason must contain, e.g. r"\b[A-Z]+-\d+\b" for a
# ticket reference (staff/reasons.py). Empty: at least 3 visible characters.
PORTAL_REASON_PATTERN = env.str("PORTAL_REASON_PATTERN", default="")
try:
    re.compile(PORTAL_REASON_PATTERN)
except re.error as exc:
    raise ImproperlyConfigured(f"PORTAL_REASON_PATTERN is not a regular expression: {exc}") from exc
# How long a reason given in Django admin opens that account's titles or
# content for that admin (staff.selectors.content_grant_ttl).
PORTAL_CONTENT_GRANT_MINUTES = env.int("PORTAL_CONTENT_GRANT_MINUTES", default=30)
# Refused requests by one requester to one route are logged as one access-log
# row per window of this many minutes, with a count (staff/services.py).
PORTAL_DENIAL_WINDOW_MINUTES = env.int("PORTAL_DENIAL_WINDOW_MINUTES", default=10)

INSTALLED_APPS = [
    # Django admin with the portal's AdminSite (logged 403 for non-staff).
    "staff.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "accounts",
    "staff",
    "connected",
    "retention",
    "ingest",
    "support",
    "dashboard",
]

MIDDLEWARE = [
    # Outermost: under /api/ every error is JSON, whichever layer answered it.
    "privacy_portal.http.ApiJsonErrorsMiddleware",
    # A view failing on a deadlock or a database briefly out of reach: 503
    # with Retry-After (nothing was changed), not 500.
    "privacy_portal.http.TransientDatabaseErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The interface language: the set_language cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signed-in answers are never cached (knows the user, so after auth).
    "privacy_portal.http.NoStoreWhenSignedInMiddleware",
    # Dates in the person's time zone (the portal_tz cookie); the API stays UTC.
    "privacy_portal.http.TimeZoneMiddleware",
    # A 405 from a method decorator becomes the branded page (Allow kept).
    "privacy_portal.http.BrandedMethodNotAllowedMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so it decides once the view is known: may this request read the
    # replica (only with DATABASE_REPLICA_URL; privacy_portal/db_router.py).
    "privacy_portal.db_router.ReplicaReadsMiddleware",
]

ROOT_URLCONF = "privacy_portal.urls"
WSGI_APPLICATION = "privacy_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.auth.portal_roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker share the file: WAL lets readers
    # run beside a writer, IMMEDIATE avoids lock upgrades that fail at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# Behind a transaction-mode pooler (PgBouncer) consecutive transactions of one
# connection may run on different server sessions, so nothing may live in a
# session: no server-side cursors (Django's WITH HOLD cursors for .iterator())
# and no prepared statements (psycopg prepares a query on the server after 5
# runs; PgBouncer before 1.21 cannot route them). Set it when DATABASE_URL
# points at such a pooler (docs/purge.md).
DISABLE_SERVER_SIDE_CURSORS = env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
if DISABLE_SERVER_SIDE_CURSORS and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
# A streaming replica of the primary (optional): the end user's read-only
# pages may read from it, with read-your-writes (privacy_portal/db_router.py,
# docs/scale.md). Unset: one database, no router.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    for _key in ("CONN_MAX_AGE", "DISABLE_SERVER_SIDE_CURSORS", "OPTIONS"):
        if _key in DATABASES["default"]:
            DATABASES["replica"].setdefault(_key, DATABASES["default"][_key])
    DATABASE_ROUTERS = ["privacy_portal.db_router.ReplicaRouter"]
# After a client changes something, its reads stay on the primary this long
# (longer than the replica lag you alert on, docs/scale.md).
PORTAL_REPLICA_PRIMARY_SECONDS = env.int("PORTAL_REPLICA_PRIMARY_SECONDS", default=10)
# URL namespaces whose GET views may read the replica: the end user's pages
# and /api/me/. Admin, the support console, accounts and the ingest API never.
PORTAL_REPLICA_NAMESPACES = ["dashboard"]
# Third-party apps keep their own id type; ours use BigAutoField (see apps.py).
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the signed-in user read from the cache (accounts/backends.py).
    "accounts.backends.CachedModelBackend",
    # Sessions made before CachedModelBackend name this one; they keep working.
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Without a `next`, staff land on admin or the console instead (accounts.views.LoginView).
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock an account+address after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"  # a page with HTTP 429
# The login form's field is "username" (Django's AuthenticationForm), not USERNAME_FIELD.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.views.axes_username"
# Behind reverse proxies: how many (each appending to X-Forwarded-For) stand
# in front of the portal, so that the lockout keys on the client's address and
# not on the proxy's (accounts.views.axes_client_ip). 0: REMOTE_ADDR is the client.
PORTAL_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.views.axes_client_ip"

LANGUAGE_CODE = "en"
# The interface's languages (the retention article stays in its published
# language, English). French strings come from locale/fr (makemessages -l fr).
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Stored and computed in UTC; pages show dates in the person's time zone
# (privacy_portal.http.TimeZoneMiddleware), the API always in UTC.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
PORTAL_TZ_COOKIE = "portal_tz"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Mail (password reset): the console by default, SMTP when EMAIL_BACKEND says so.
MAILERS = {
    "default": {
        "BACKEND": env.str(
            "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
        ),
        "OPTIONS": {
            key: value
            for key, value in {
                "host": env.str("EMAIL_HOST", default=""),
                "port": env.int("EMAIL_PORT", default=0),
                "username": env.str("EMAIL_HOST_USER", default=""),
                "password": env.str("EMAIL_HOST_PASSWORD", default=""),
                "use_tls": env.bool("EMAIL_USE_TLS", default=False),
            }.items()
            if value
        }
        if "smtp" in env.str("EMAIL_BACKEND", default="")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="privacy@localhost")

# The cache: CACHE_URL (e.g. redis://host:6379/1, shared by every web host and
# worker) or, by default, a per-process memory cache. Sessions are read from
# the cache (written through to the database) and pages answer conditional
# GETs (ETag, 304) only with a shared cache: with a per-process one, a logout
# or a change made by one process would not reach the others.
CACHE_URL = env.str("CACHE_URL", default="")
CACHES = {
    "default": env.cache_url_config(CACHE_URL)
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Sessions record whose they are (accounts/sessions.py), so deleting an
# account ends its sessions on every device with one query; with a shared
# cache they are read through it (accounts/cached_sessions.py).
SESSION_ENGINE = "accounts.cached_sessions" if CACHE_URL else "accounts.sessions"
PORTAL_CONDITIONAL_GET = env.bool("PORTAL_CONDITIONAL_GET", default=bool(CACHE_URL))
# A 304 is never older than this many seconds: the pages also change with the
# clock alone ("in 3 days", "removal is due"), not only with the data
# (dashboard/caching.py). PORTAL_RELEASE names the deployed code (e.g. the
# commit) so a deploy changes every ETag; unset, a digest of the source.
PORTAL_ETAG_SECONDS = env.int("PORTAL_ETAG_SECONDS", default=300)
PORTAL_RELEASE = env.str("PORTAL_RELEASE", default="")
# How long the signed-in user's row is taken from the cache (accounts/auth.py);
# a change to the account through the ORM clears it at once. 0: always read.
PORTAL_USER_CACHE_SECONDS = env.int("PORTAL_USER_CACHE_SECONDS", default=60 if CACHE_URL else 0)

# Security headers. A strict CSP: no inline script anywhere in the product.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A refused form or htmx request gets a page saying what to do (JSON under /api/).
CSRF_FAILURE_VIEW = "dashboard.views.csrf_failure"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The ingest API takes at most 1000 events per request; this bounds the body.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# Celery. The embedded default broker is kombu's filesystem transport, so
# `make run` needs no server; production sets CELERY_BROKER_URL to Redis or RabbitMQ.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    # Every folder is named: kombu's defaults are relative to the working
    # directory (its exchange tables land in ./control otherwise), and it
    # creates the control folder without its parents.
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# No result backend, so no nightly 'celery.backend_cleanup' crontab entry
# (django-celery-beat 2.1's crontab code predates zoneinfo and cannot run it).
CELERY_RESULT_EXPIRES = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "privacy_portal.beat:PortalDatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# One queue per kind of work, so a backlog of one never delays another and
# each gets the hosts it needs (docs/scale.md): start workers with
# `-Q purge`, `-Q delivery`, `-Q auto_delete`, `-Q mail` (and `-Q celery` for
# anything unrouted). Off by default: `make run`'s one worker reads the
# default queue only.
CELERY_QUEUES_BY_KIND = env.bool("CELERY_QUEUES_BY_KIND", default=False)
if CELERY_QUEUES_BY_KIND:
    CELERY_TASK_ROUTES = {
        "retention.tasks.enforce_retention": {"queue": "purge"},
        "retention.tasks.purge_batch": {"queue": "purge"},
        "retention.tasks.auto_delete*": {"queue": "auto_delete"},
        "connected.tasks.*": {"queue": "delivery"},
        "accounts.tasks.password_reset_mail": {"queue": "mail"},
    }

# The purge (retention.purge, docs/purge.md). Database connections one run
# uses side by side for conversation batches (PostgreSQL; SQLite uses one).
RETENTION_PURGE_CONNECTIONS = env.int("RETENTION_PURGE_CONNECTIONS", default=2)
# Above RETENTION_FANOUT_BATCHES batches due, the scheduled run also enqueues
# RETENTION_FANOUT_WORKERS batch tasks for workers on other hosts (0: none).
RETENTION_FANOUT_WORKERS = env.int("RETENTION_FANOUT_WORKERS", default=0)
RETENTION_FANOUT_BATCHES = env.int("RETENTION_FANOUT_BATCHES", default=20)
# The SQLite run lock's lease (retention/purge/locks.py): longer than a task may
# live, so a live run never loses it between two renewals; short enough that a
# crashed holder blocks the schedule only briefly.
RETENTION_PURGE_LEASE_SECONDS = env.int(
    "RETENTION_PURGE_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60
)

# Connected systems (connected/, docs/connected-systems.md): seconds a webhook
# may take, hours an old signing secret keeps signing after a rotation, days a
# failing delivery is retried before it becomes a dead letter.
CONNECTED_DELIVERY_TIMEOUT = env.float("CONNECTED_DELIVERY_TIMEOUT", default=5.0)
CONNECTED_SECRET_OVERLAP_HOURS = env.float("CONNECTED_SECRET_OVERLAP_HOURS", default=24.0)
CONNECTED_RETRY_DAYS = env.float("CONNECTED_RETRY_DAYS", default=3.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
