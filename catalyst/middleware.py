from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.middleware.gzip import GZipMiddleware
from whitenoise.middleware import WhiteNoiseMiddleware


class SyncAndAsyncMiddleware:
    """A middleware that runs in the mode of the chain around it: ``call`` under WSGI, ``acall`` under ASGI.

    Django's ``MiddlewareMixin`` would run a sync hook in a thread under ASGI;
    these never hop to a thread unless they choose to.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.acall(request)
        return self.call(request)

    def call(self, request):
        raise NotImplementedError

    async def acall(self, request):
        raise NotImplementedError


class StaticFilesMiddleware(SyncAndAsyncMiddleware):
    """WhiteNoise's static files, without a thread hop for every other request.

    WhiteNoise's middleware is synchronous only, so under ASGI Django would
    run it in a thread, and the rest of the request back on the loop, for
    every request. Here only a request for a static file goes to a thread.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self.whitenoise = WhiteNoiseMiddleware(get_response)

    def call(self, request):
        return self.whitenoise(request)

    async def acall(self, request):
        whitenoise = self.whitenoise
        path = request.path_info
        static_file = (
            await sync_to_async(whitenoise.find_file)(path) if whitenoise.autorefresh else whitenoise.files.get(path)
        )
        if static_file is not None:
            return await sync_to_async(whitenoise.serve)(static_file, request)
        return await self.get_response(request)


class CompressionMiddleware(GZipMiddleware):
    """GZip for pages, JSON and other text; never for a streaming response.

    Django's middleware would buffer an event stream's chunks through the compressor,
    so a reply's tokens could no longer reach the page one at a time: a streaming
    response (event streams, files) and anything ``text/event-stream`` pass untouched.
    Only text and JSON are compressed: images and archives are compressed already.
    Django's GZip adds random bytes to each body against BREACH (a secret guessed
    from compressed sizes).

    Under ASGI Django's base class compresses in its one thread for sync code; here a
    body small enough compresses on the event loop, a large one in a worker thread.
    """

    # Half a millisecond or so of compression holds the loop no longer than rendering a
    # fragment does; a larger body would hold up the tokens of every stream the loop serves.
    inline_max_bytes = 64 * 1024

    async def __acall__(self, request):
        response = await self.get_response(request)
        if not self._compresses(response) or len(response.content) <= self.inline_max_bytes:
            return self.process_response(request, response)
        return await sync_to_async(self.process_response, thread_sensitive=False)(request, response)

    def process_response(self, request, response):
        if not self._compresses(response):
            return response
        return super().process_response(request, response)

    @staticmethod
    def _compresses(response) -> bool:
        if response.streaming:
            return False
        content_type = response.get("Content-Type", "").partition(";")[0].strip().lower()
        if content_type == "text/event-stream":
            return False
        return content_type.startswith("text/") or content_type == "application/json" or content_type.endswith("+json")
