"""Write (or ``--check``) the MongoDB migration set without a MongoDB server.

    python -m mongo_migrations           # after changing a model
    python -m mongo_migrations --check   # exit 1 when the set lags the models

``makemigrations`` only needs a server to compare against the migrations
already applied there; that check is skipped so the set can be kept up to
date offline. Everything else is Django's own ``makemigrations``.
"""

import os
import sys

from django.db.migrations.loader import MigrationLoader

MONGO_APPS = ("admin", "auth", "contenttypes", "axes", "accounts", "projects", "chat")


def main(argv: list[str]) -> None:
    os.environ.setdefault("DATABASE_URL", "mongodb://localhost:27017/project_catalyst")
    if not os.environ["DATABASE_URL"].startswith("mongodb"):
        sys.exit("DATABASE_URL must be a mongodb:// URL for the MongoDB migration set.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalyst.settings")
    os.environ.setdefault("DEBUG", "1")
    MigrationLoader.check_consistent_history = lambda self, connection: None

    import django
    from django.core.management import call_command

    django.setup()
    options = {"check_changes": True, "dry_run": True} if "--check" in argv else {}
    call_command("makemigrations", *MONGO_APPS, **options)


if __name__ == "__main__":
    main(sys.argv[1:])
