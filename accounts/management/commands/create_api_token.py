from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="Command-line token", help="A name to recognise the token by.")

    def handle(self, *args, email: str, name: str, **options) -> None:
        try:
            user = User.objects.get(email__iexact=email)
        except User.DoesNotExist:
            raise CommandError(f"No user with email {email!r}.") from None
        token, raw_key = ApiToken.issue(user=user, name=name)
        self.stderr.write(f"Token “{token.name}” created for {user.email}. It is shown only this once:")
        self.stdout.write(raw_key)
