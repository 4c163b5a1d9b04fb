from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented demo account, DEBUG only


class Command(BaseCommand):
    help = "Create the demo account when DEBUG is on and it is absent."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: no demo account is created.")
            return
        if not User.objects.filter(email__iexact=DEMO_EMAIL).exists():
            User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, name="Demo User")
            self.stdout.write("Created the demo account.")
        self.stdout.write(self.style.SUCCESS(f"Demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}"))
