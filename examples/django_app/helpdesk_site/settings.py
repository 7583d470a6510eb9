"""Settings of the example project.

``manage.py`` uses this module. The database comes from ``HELPDESK_DATABASE``: a
``postgresql://`` URL, or a SQLite file path (default: ``db.sqlite3`` next to
``manage.py``). The helpers :func:`sqlite_database` and :func:`postgres_database` build the
``DATABASES`` entries the ``DjangoStore`` needs, so tests and other projects can reuse them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent


def sqlite_database(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A SQLite database for the desk: every transaction starts with ``BEGIN IMMEDIATE``
    (writers wait for each other for up to ``timeout`` seconds instead of failing), WAL
    journal, and ``secure_delete`` so that anonymised text is overwritten in the file."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.fspath(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON"
            ),
        },
    }


def postgres_database(dsn: str, *, schema: str | None = None) -> dict[str, Any]:
    """A PostgreSQL database from a libpq URL or connection string; with ``schema``, the
    connection's ``search_path`` is that schema (it must exist), so the project's tables
    live there."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn)
    options = {"options": f"-c search_path={schema}"} if schema else {}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": params.get("dbname", ""),
        "USER": params.get("user", ""),
        "PASSWORD": params.get("password", ""),
        "HOST": params.get("host", ""),
        "PORT": params.get("port", ""),
        "OPTIONS": options,
    }


def database(location: str) -> dict[str, Any]:
    """``postgres_database`` for a ``postgres(ql)://`` URL, else ``sqlite_database``."""
    if location.startswith(("postgresql://", "postgres://")):
        return postgres_database(location)
    return sqlite_database(location)


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-project-key-replace-in-production")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "helpdesk_django",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "helpdesk_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": database(os.environ.get("HELPDESK_DATABASE", str(BASE_DIR / "db.sqlite3")))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Europe/Berlin"
STATIC_URL = "static/"
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

#: The desk: ``CONFIG`` is a TOML or JSON file, a dict, a ``DeskConfig`` or None (the
#: bundled example IT desk); ``DATABASE`` the alias its store uses; ``CLOCK`` a
#: helpdesk_core ``Clock`` (None: the system clock); ``EMAIL_ADDRESS`` the desk's mailbox,
#: the sender of the messages ``manage.py helpdesk_tick`` delivers.
HELPDESK: dict[str, Any] = {
    "CONFIG": os.environ.get("HELPDESK_CONFIG"),
    "DATABASE": "default",
    "CLOCK": None,
    "EMAIL_ADDRESS": "help@desk.example.com",
}
