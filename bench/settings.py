"""The site's settings for a benchmark run: production behaviour (DEBUG off, so no query
log grows in memory), the bench's own URLconf (the site plus the bare capture view), and no
status URL, trigger or Slack webhook, so nothing leaves the machine.

Only defaults are set, as in tests/settings.py: a DATABASE_URL chosen by ``bench.run`` wins.
"""

import os
import warnings

os.environ.setdefault("SECRET_KEY", "bench-secret-key-only-for-the-benchmark-database")
os.environ.setdefault("CHECKOUT_API_KEY", "bench-checkout-api-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")

from smplat.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.urls"
# The staff user of the page measurements logs in once per run; hashing speed is not measured.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The admin's CSS links work without collectstatic.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
# WhiteNoise warns once per process that STATIC_ROOT (collectstatic's output) is missing.
warnings.filterwarnings("ignore", message="No directory at")
for _name in list(globals()):
    if _name.endswith(("_STATUS_URL", "_STATUS_S3_URI", "_SLACK_WEBHOOK", "_TRIGGER_URL")):
        globals()[_name] = ""
EXPORT_SAFETY_LAG_SECONDS = 5.0
# The exporter runs with its sink's default batch size (10 000 rows for a file), whatever
# a local .env says.
EXPORT_BATCH_SIZE = None
# The capture measurements drive one key far past a storefront's rate for minutes on end:
# the limiter still counts every request (its cost is measured), it just never refuses.
API_INGEST_RATE_PER_KEY = (10**9, 60)
