"""As `django-admin startproject` writes it, plus the project directory
on sys.path (a deployment's usual first line)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gwfw_common  # noqa: E402

gwfw_common.claim("django")

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gwsite.settings")

application = get_wsgi_application()
