"""Settings of the benchmark server: the production settings (DEBUG off,
whitenoise, every middleware) with the bench URLconf and plain HTTP on
127.0.0.1, so a load generator can talk to it without TLS.

Used by bench/load.py (gunicorn) and bench/consent.py (Django's test Client).
SECRET_KEY and DATABASE_URL come from the environment as in production.
"""

from privacy_portal.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1"]
# The benchmark speaks plain HTTP to 127.0.0.1: no redirect to https, no HSTS,
# and cookies that a client on http:// may send back.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
