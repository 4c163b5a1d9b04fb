import os

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.demo import SAMPLE_PROJECT, demo_samples_create
from accounts.models import User
from catalyst.db import all_or_nothing

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"


class Command(BaseCommand):
    help = "Create the demo account, with sample projects and a planning chat, when DEBUG is on and it is absent."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: no demo account is created.")
            return
        if not User.objects.filter(email__iexact=DEMO_EMAIL).exists():
            with all_or_nothing():
                user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, name="Demo User")
                demo_samples_create(user=user)
            self.stdout.write(
                f"Created the demo account, with the sample project “{SAMPLE_PROJECT}” "
                "(tasks overdue, due this week and done), a second project and a short planning chat."
            )
        # Where `make run` serves (its HOST and PORT, with its defaults).
        url = f"http://{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}/"
        self.stdout.write(self.style.SUCCESS(f"Demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}"))
        self.stdout.write(f"Sign in at {url} and start on the dashboard.")
