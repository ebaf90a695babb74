"""A minimal but complete Django project: the contrib apps a
`django-admin startproject` site has, sqlite in the server's tmp dir,
DEBUG off, static files collected for Apache to serve.

The data directory (sqlite DB and STATIC_ROOT) is <ServerRoot>/tmp/django
when this file is at <ServerRoot>/frameworks/django/gwsite/settings.py;
GWFW_DJANGO_DATA overrides it (the test migrates once into a shared dir).
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("GWFW_DJANGO_DATA")
                or BASE_DIR.parent.parent / "tmp" / "django")

SECRET_KEY = "gwfw-django-test-key-not-secret-0123456789abcdefghijklmnop"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # marks every response that went through Django (the static files
    # Apache serves must not carry it)
    "gwsite.views.MarkerMiddleware",
]

ROOT_URLCONF = "gwsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gwsite" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "gwsite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "db.sqlite3"),
    }
}

# fast hashing: the test logs in once per server
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_L10N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = str(DATA_DIR / "static")

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
