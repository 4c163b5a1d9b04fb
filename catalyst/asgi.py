import os

from django.core.asgi import get_asgi_application

from catalyst.startup import warn_about_per_process_limits

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalyst.settings")

application = get_asgi_application()
warn_about_per_process_limits()
