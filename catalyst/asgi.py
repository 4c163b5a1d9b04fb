import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalyst.settings")

django_application = get_asgi_application()

from catalyst.startup import warn_about_per_process_limits  # noqa: E402 - needs the apps loaded
from chat.generation import process_loop_adopt  # noqa: E402

warn_about_per_process_limits()


async def application(scope, receive, send):
    # Replies are written on the server's loop, beside the requests that watch them.
    process_loop_adopt()
    await django_application(scope, receive, send)
