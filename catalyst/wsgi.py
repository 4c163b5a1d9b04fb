import os

from django.core.wsgi import get_wsgi_application

from catalyst.startup import warn_about_per_process_limits

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalyst.settings")

application = get_wsgi_application()
warn_about_per_process_limits()
