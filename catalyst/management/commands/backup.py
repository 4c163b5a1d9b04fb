from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalyst import backups


class Command(BaseCommand):
    help = (
        "Copy the site into a dated file under BACKUP_DIR while it runs (SQLite: the online backup API; "
        "MongoDB: the portable export), then keep only the newest BACKUP_KEEP backups."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dir", type=Path, dest="directory", help="Where backups go (default: BACKUP_DIR).")
        parser.add_argument("--keep", type=int, help="How many to keep, 0 for all (default: BACKUP_KEEP).")
        parser.add_argument("--database", default="default", help="The database to back up.")

    def handle(self, *args, directory: Path | None, keep: int | None, database: str, **options) -> None:
        directory = directory or Path(settings.BACKUP_DIR)
        keep = settings.BACKUP_KEEP if keep is None else keep
        try:
            result = backups.backup_create(directory=directory, keep=keep, using=database)
        except (backups.BackupError, OSError) as error:
            raise CommandError(f"Backup failed: {error}") from None
        size = result.path.stat().st_size
        self.stdout.write(f"Backed up to {result.path} ({size:,} bytes).")
        if result.removed:
            self.stdout.write(f"Removed {len(result.removed)} older backups, keeping the newest {keep}.")
