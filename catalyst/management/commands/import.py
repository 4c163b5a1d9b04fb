from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalyst import portable


class Command(BaseCommand):
    help = (
        "Load FILE (written by `manage.py export`) into this site, keeping every link. "
        "The site must be empty unless --force is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add the file's records to a site that already holds data (they get fresh keys).",
        )
        parser.add_argument("--database", default="default", help="The database to load into.")

    def handle(self, *args, file: Path, force: bool, database: str, verbosity: int, **options) -> None:
        def progress(collection: str, count: int) -> None:
            if verbosity > 1:
                self.stderr.write(f"  {collection}: {count:,}")

        if not file.is_file():
            raise CommandError(f"No file {file}.")
        try:
            report = portable.site_import(file, using=database, force=force, progress=progress)
        except portable.PortableFileError as error:
            raise CommandError(f"{file} cannot be imported: {error}. Nothing was written.") from None
        except portable.SiteNotEmpty as error:
            raise CommandError(
                f"{error} Import into an empty database, add to it with --force, "
                "or replace its data with `manage.py restore FILE`."
            ) from None
        except portable.ImportRefused as error:
            raise CommandError(f"{error}. Nothing was written.") from None
        counts = ", ".join(f"{count:,} {name}" for name, count in report.counts.items())
        keys = "keys kept" if report.kept_keys else "fresh keys"
        self.stdout.write(f"Imported {counts} from {file} ({keys}).")
