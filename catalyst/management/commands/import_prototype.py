from django.core.management.base import BaseCommand, CommandError

from catalyst import prototype


class Command(BaseCommand):
    help = (
        "Make the prototype's users and chats, in the MongoDB database it wrote to, part of this app: "
        "fill in what the prototype lacked and link each chat to its account, keeping every _id, text and date. "
        "A second run changes nothing; documents of any other shape are listed and left alone."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; change nothing.")
        parser.add_argument("--database", default="default", help="The MongoDB database the prototype wrote to.")

    def handle(self, *args, dry_run: bool, database: str, **options) -> None:
        try:
            report = prototype.prototype_import(using=database, dry_run=dry_run)
        except prototype.NeedsMongoDB as error:
            raise CommandError(str(error)) from None
        would = "Would make" if dry_run else "Made"
        if not report.changed_anything:
            self.stdout.write("Nothing to do: no user or chat of the prototype's shape is left to adopt.")
        if report.users_adopted:
            self.stdout.write(
                f"{would} {report.users_adopted} of the prototype's users accounts. They have no usable password "
                "yet: set one with `manage.py changepassword EMAIL` or in the admin."
            )
        if report.accounts_created:
            self.stdout.write(
                f"{would} {len(report.accounts_created)} accounts (no usable password) for chats that named "
                f"an e-mail address with none: {', '.join(report.accounts_created)}."
            )
        if report.chats_adopted:
            linked = "Would link" if dry_run else "Linked"
            self.stdout.write(f"{linked} {report.chats_adopted} of the prototype's chats to their accounts.")
        for left in report.duplicates:
            self.stdout.write(f"Left as it is: {left.collection} {left.id}: {left.reason}.")
        if report.not_understood_count:
            self.stdout.write(f"Left alone, not understood ({report.not_understood_count}):")
            for left in report.not_understood:
                self.stdout.write(f"  {left.collection} {left.id}: {left.reason}")
            if report.not_understood_count > len(report.not_understood):
                self.stdout.write(f"  … and {report.not_understood_count - len(report.not_understood)} more")
