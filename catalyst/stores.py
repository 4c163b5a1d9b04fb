"""Pick the database store from ``DATABASE_URL``.

Unset means an SQLite file beside the project, so a fresh clone runs with no
server; ``mongodb://`` and ``mongodb+srv://`` select django-mongodb-backend.
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

DEFAULT_MONGO_DB_NAME = "project_catalyst"
MONGO_SCHEMES = ("mongodb", "mongodb+srv")


def database_from_url(url: str | None, *, base_dir: Path) -> dict:
    """Return a ``DATABASES["default"]`` entry for ``url``."""
    if not url:
        return sqlite_database(base_dir / "db.sqlite3")
    parts = urlsplit(url)
    if parts.scheme in MONGO_SCHEMES:
        return {
            "ENGINE": "django_mongodb_backend",
            "HOST": url,
            "NAME": unquote(parts.path.lstrip("/")) or DEFAULT_MONGO_DB_NAME,
        }
    if parts.scheme == "sqlite":
        # sqlite:///relative.db or sqlite:////absolute/path.db
        path = unquote(parts.path)
        if not path or path == "/":
            raise ImproperlyConfigured("DATABASE_URL sqlite:// needs a file path.")
        name = Path(path[1:])  # a fourth slash makes it absolute
        return sqlite_database(name if name.is_absolute() else base_dir / name)
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme or '(none)'!r} is not supported; "
        "use sqlite:///file.db, mongodb://… or mongodb+srv://…"
    )


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # WAL lets readers go on while the stream task writes its reply.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        },
    }


def is_mongodb(database: dict) -> bool:
    return database["ENGINE"] == "django_mongodb_backend"
