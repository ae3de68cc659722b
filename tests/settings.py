"""Test settings: the real settings with the two secrets tests need, and a
fast password hasher. DATABASE_URL still decides SQLite or PostgreSQL."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-used-anywhere-else")
os.environ.setdefault("PORTAL_INGEST_TOKEN", "test-ingest-token")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from privacy_portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = True
# Most tests keep their data in a transaction that other connections cannot
# see; the tests of parallel batches ask for more connections themselves, and
# the workers of the fault tests run with the production default.
RETENTION_PURGE_CONNECTIONS = int(os.environ.get("RETENTION_PURGE_CONNECTIONS", "1"))
# Serve static files from the app folders (as DEBUG would) so tests need no
# collectstatic run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# A second alias on the same test database (a test mirror), so the replica
# router's tests run everywhere (tests/test_db_router.py). The router itself
# is off unless a test installs it: other tests read and write one database.
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
