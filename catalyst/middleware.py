from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware:
    """WhiteNoise's static files, without a thread hop for every other request.

    WhiteNoise's middleware is synchronous only, so under ASGI Django would
    run it in a thread, and the rest of the request back on the loop, for
    every request. Here only a request for a static file goes to a thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.whitenoise = WhiteNoiseMiddleware(get_response)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return self.whitenoise(request)

    async def _acall(self, request):
        whitenoise = self.whitenoise
        path = request.path_info
        static_file = (
            await sync_to_async(whitenoise.find_file)(path) if whitenoise.autorefresh else whitenoise.files.get(path)
        )
        if static_file is not None:
            return await sync_to_async(whitenoise.serve)(static_file, request)
        return await self.get_response(request)
