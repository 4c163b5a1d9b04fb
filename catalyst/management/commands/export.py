from pathlib import Path

from django.core.management.base import BaseCommand

from catalyst import portable


class Command(BaseCommand):
    help = (
        "Write the whole site (users with their password hashes, API token hashes, projects, tasks, chats) "
        "to FILE as portable JSON Lines; gzip-compressed when FILE ends in .gz."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--database", default="default", help="The database to export.")

    def handle(self, *args, file: Path, database: str, verbosity: int, **options) -> None:
        def progress(collection: str, count: int) -> None:
            if verbosity > 1:
                self.stderr.write(f"  {collection}: {count:,}")

        with portable.open_for_writing(file) as out:
            report = portable.site_export(out, using=database, progress=progress)
        counts = ", ".join(f"{count:,} {name}" for name, count in report.counts.items())
        self.stdout.write(f"Exported {counts} to {file}.")
        if report.skipped:
            later = ", ".join(f"{count:,} {name}" for name, count in report.skipped.items())
            self.stdout.write(f"Left out {later} created during the export (their user or project came later).")
