import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalyst.settings")

django_application = get_asgi_application()

from catalyst.startup import warn_about_per_process_limits  # noqa: E402 - needs the apps loaded
from chat.generation import generations_interrupt_all, process_loop_adopt  # noqa: E402

warn_about_per_process_limits()
logger = logging.getLogger(__name__)


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    # Replies are written on the server's loop, beside the requests that watch them.
    process_loop_adopt()
    await django_application(scope, receive, send)


async def _lifespan(receive, send) -> None:
    """The server's start and its graceful shutdown: replies still being written save their text first."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            process_loop_adopt()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if interrupted := await generations_interrupt_all():
                logger.info("Shutting down: %s replies saved as interrupted, ready to continue.", interrupted)
            await send({"type": "lifespan.shutdown.complete"})
            return
