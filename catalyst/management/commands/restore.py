from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from catalyst import backups


class Command(BaseCommand):
    help = (
        "Replace the site's data with a backup: a copy of an SQLite database (on an SQLite site) "
        "or a portable export (on either store). The data it replaces is saved as a backup first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive", help="Do not ask.")
        parser.add_argument("--database", default="default", help="The database to restore into.")

    def handle(self, *args, file: Path, interactive: bool, database: str, **options) -> None:
        if not file.is_file():
            raise CommandError(f"No file {file}.")
        name = connections[database].settings_dict["NAME"]
        if interactive:
            answer = input(
                f"This replaces every user, project, task and chat in {name} with those in {file}.\n"
                "Type 'yes' to continue: "
            )
            if answer != "yes":
                raise CommandError("Restore cancelled.")
        directory = Path(settings.BACKUP_DIR)
        try:
            result = backups.backup_restore(file, directory=directory, using=database)
        except backups.BackupError as error:
            raise CommandError(f"{error} Nothing was changed.") from None
        if result.safety_copy:
            self.stdout.write(f"The data it replaced is saved in {result.safety_copy}.")
        counts = ", ".join(f"{count:,} {collection}" for collection, count in result.counts.items())
        self.stdout.write(f"Restored {file}: {counts}.")
        if result.pending_migrations:
            self.stdout.write(
                f"The backup predates {result.pending_migrations} migrations: run `manage.py migrate` now."
            )
