"""One settings module, fed by environment variables, with laptop-safe defaults.

Nothing here is read by application code at import time: modules read
`django.conf.settings` when they run.
"""

import datetime as dt
import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("ADESSO_VAR_DIR", BASE_DIR.parent / "var"))
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


DEBUG = env_bool("DEBUG", False)
# A laptop default so `make run` works; system check adesso.E001 refuses it
# when DEBUG is off and the site is not on loopback.
SECRET_KEY = os.environ.get("SECRET_KEY", "adesso-insecure-development-key")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# When websockets are served by a separate process on its own port (the Procfile's
# `live`), the pages connect there; empty: same origin (a proxy routes /ws/).
LIVE_PORT = os.environ.get("ADESSO_LIVE_PORT", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "ninja",  # its bundled Swagger UI: the API docs work offline
    "django_tasks",
    "django_tasks_db",
    "adesso.accounts",
    "adesso.channels",
    "adesso.channels.email",
    "adesso.channels.telegram",
    "adesso.channels.api",
    "adesso.channels.webchat",
    "adesso.contacts",
    "adesso.conversations",
    "adesso.sla",
    "adesso.coach",
    "adesso.routing",
    "adesso.autoreply",
    "adesso.canned",
    "adesso.notifications",
    "adesso.outbox",
    "adesso.reports",
    "adesso.insights",
    "adesso.surveys",
    "adesso.audit",
    "adesso.privacy",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "adesso.twofactor",
    "adesso.api",
    "adesso.front",
    "adesso.realtime",
    "adesso.demo",
    "adesso.ops",
    "adesso.simulation",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "adesso.accounts.middleware.AgentLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "adesso.audit.context.AuditContextMiddleware",
    # After the password, the second step (docs/privacy.md): a session marked at login.
    "adesso.twofactor.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "adesso.urls"
WSGI_APPLICATION = "adesso.wsgi.application"
ASGI_APPLICATION = "adesso.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "adesso.front.context.live",
                "adesso.front.context.unread_count",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'adesso.sqlite3'}")
DATABASES: dict[str, Any] = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
if DATABASES["default"]["ENGINE"] not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
    # Refused here: Django imports the database driver before system checks run.
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DATABASE_URL must be postgres://user@host:5432/name, or unset for SQLite; "
        f"Adesso does not support {DATABASES['default']['ENGINE']}."
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if env_bool("ADESSO_TESTING", False) else 600
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run while one writer commits; IMMEDIATE takes the
        # write lock at BEGIN, so concurrent writers queue instead of failing
        # with "database is locked" halfway through a transaction.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; PRAGMA cache_size=-64000;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"].setdefault("TEST", {})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "front:login"
LOGIN_REDIRECT_URL = "front:inbox"
LOGOUT_REDIRECT_URL = "front:login"
# The name authenticator apps show beside the agent's login.
OTP_TOTP_ISSUER = "Adesso"
# django-axes first: a locked-out account or address is refused before the password is
# checked (adesso/accounts/throttle.py, docs/security.md).
AUTHENTICATION_BACKENDS = ["adesso.accounts.throttle.LoginThrottleBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("ADESSO_LOGIN_FAILURES", 10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("ADESSO_LOGIN_COOLOFF_MINUTES", 15))
# Counted per account and, separately, per client address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the login form's field (the User's is email)
AXES_LOCKOUT_CALLABLE = "adesso.accounts.throttle.locked_out"
AXES_SENSITIVE_PARAMETERS = ["password"]
# Behind reverse proxies (nginx, a load balancer) that append X-Forwarded-For: how many.
ADESSO_PROXY_COUNT = env_int("ADESSO_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "adesso.accounts.throttle.client_ip"
AUTH_PASSWORD_VALIDATORS = [
    {  # our User has `name` and `email` (Django's default list looks for first_name...)
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["email", "name"]},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    # Libraries parse this URL while Django starts, before system checks run.
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "REDIS_URL must be a redis://, rediss:// or unix:// URL (e.g. redis://127.0.0.1:6379/0), or be left unset."
    )
# "default": what a customer or an agent waits for (inbound processing); "outbox": the
# sends (acknowledgements, replies), a child process of `adesso worker`, so that a burst
# being filed never holds its acknowledgements back; "background": what nobody waits for
# (the insights' analysis), another child, at niceness +10 (adesso/ops/.../worker.py).
TASK_QUEUES = ["default", "outbox", "background"]
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "adesso"},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    RQ_QUEUES = {queue: {"URL": REDIS_URL} for queue in TASK_QUEUES}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
# "shared": what every process (web, live, worker) must see alike: whether a web chat
# visitor is still on the page, visitors' rate limits. Redis when there is one, else
# files under ADESSO_VAR_DIR (the default cache stays in memory: it is the hot one).
CACHES["shared"] = (
    dict(CACHES["default"])
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
)
if os.environ.get("ADESSO_TASKS_BACKEND"):
    TASKS = {"default": {"BACKEND": os.environ["ADESSO_TASKS_BACKEND"], "QUEUES": TASK_QUEUES}}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("it", "Italiano")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our Italian date formats ("venerdì 4 dicembre 2026"), before Django's own.
FORMAT_MODULE_PATH = ["adesso.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Rome")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Outgoing mail of email channels that have no SMTP server of their own (docs/email.md):
# Django's SMTP settings, or an anymail backend (EMAIL_BACKEND=anymail.backends.mailgun.EmailBackend
# with ANYMAIL_MAILGUN_API_KEY=...: every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"]).
# On a laptop (no EMAIL_HOST), outgoing mail such as the digest is written to var/mail/.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Adesso <adesso@localhost>")
ANYMAIL = {k.removeprefix("ANYMAIL_"): v for k, v in os.environ.items() if k.startswith("ANYMAIL_")}

# Limits on what a customer or a client may send us.
ADESSO_MAX_BODY_BYTES = env_int("ADESSO_MAX_BODY_BYTES", 10 * 1024 * 1024)
ADESSO_MAX_ATTACHMENT_BYTES = env_int("ADESSO_MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024)
# The Telegram Bot API (tests point it at a server on 127.0.0.1).
ADESSO_TELEGRAM_API_BASE = os.environ.get("ADESSO_TELEGRAM_API_BASE", "https://api.telegram.org")
# Networks that addresses set by tenant admins (webhooks, IMAP/SMTP hosts) may reach
# although private or reserved (adesso/lib/netguard.py), comma-separated, e.g. a
# company relay "10.1.2.0/24". Empty: only public addresses.
ADESSO_OUTBOUND_ALLOW = [n.strip() for n in os.environ.get("ADESSO_OUTBOUND_ALLOW", "").split(",") if n.strip()]
# Fernet keys for channel secrets at rest (adesso/channels/secrets.py), comma-separated:
# the first encrypts, every one decrypts (rotation: `adesso rotatesecrets`). Unset: a
# key generated once into ADESSO_SECRETS_KEY_FILE (`adesso check` warns on a public site).
ADESSO_SECRETS_KEY = os.environ.get("ADESSO_SECRETS_KEY", "")
ADESSO_SECRETS_KEY_FILE = Path(os.environ.get("ADESSO_SECRETS_KEY_FILE", VAR_DIR / "secrets.key"))
# Sentiment of customer messages analysed by the worker as they arrive (adesso/insights).
INSIGHTS_ANALYSE_LIVE = os.environ.get("ADESSO_SENTIMENT", "1") not in ("0", "false", "no", "off")
ADESSO_MAX_TEXT_CHARS = env_int("ADESSO_MAX_TEXT_CHARS", 100_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = ADESSO_MAX_BODY_BYTES + 1024 * 1024
# Every request body, refused with 413 before anything reads it (adesso/lib/bodylimit.py):
# (regular expression on the path, bytes), the first match wins; ADESSO_BODY_LIMIT otherwise.
ADESSO_MAX_MAIL_BYTES = env_int("ADESSO_MAX_MAIL_BYTES", 40 * 1024 * 1024)
ADESSO_BODY_LIMIT = env_int("ADESSO_BODY_LIMIT", 1024 * 1024)
ADESSO_BODY_LIMITS = [
    (r"^/(login|logout)/?$|^/invite/", 8 * 1024),
    (r"^/mail/inbound/|^/channels/email/[^/]+/inbound", ADESSO_MAX_MAIL_BYTES),
    (r"^/api/v1/inbound/", ADESSO_MAX_BODY_BYTES),
    # A reply with its files: ten at the attachment limit (base64 in the API's JSON).
    (r"^/c/[^/]+/reply$", 10 * ADESSO_MAX_ATTACHMENT_BYTES + 1024 * 1024),
    (r"^/api/v1/conversations/[^/]+/messages$", 10 * ADESSO_MAX_ATTACHMENT_BYTES * 4 // 3 + 1024 * 1024),
    # A web chat visitor's file: room past the limit, so the view answers (CORS, 413) why.
    (r"^/chat/[^/]+/files$", 2 * ADESSO_MAX_ATTACHMENT_BYTES + 64 * 1024),
]

SESSION_COOKIE_HTTPONLY = True
# On an https SITE_URL: cookies only over https, plain http redirected, HSTS for a year
# (each can be turned off by its variable). Behind a reverse proxy that ends TLS, set
# ADESSO_PROXY_COUNT: the proxy's X-Forwarded-Proto then says whether the request was
# https (the proxy must set it, overwriting what the client sent). `adesso check` warns
# when an https site lacks any of these.
SITE_IS_HTTPS = SITE_URL.lower().startswith("https://")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", SITE_IS_HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SITE_IS_HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if SITE_IS_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
if env_int("ADESSO_PROXY_COUNT", 0) > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy (django-csp): scripts only from our own static files, no
# inline script or handler, no plugin, no framing by others. Styles may be inline
# (style attributes in sanitised mail and charts). Images: ours and data: URIs; the
# conversation pages also allow remote images, which they load only when the agent
# asks (adesso/lib/remoteimages.py). The websocket may live on its own port.
_CONNECT = ["'self'"] + ([f"ws://*:{LIVE_PORT}", f"wss://*:{LIVE_PORT}"] if LIVE_PORT else [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": _CONNECT,
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
