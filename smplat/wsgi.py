"""WSGI entry point of the site (gunicorn: make serve-production)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smplat.settings")

application = get_wsgi_application()
