"""The Content-Security-Policy header, on every response that has none of its own."""

from django.conf import settings

from catalyst.middleware import SyncAndAsyncMiddleware


class ContentSecurityPolicyMiddleware(SyncAndAsyncMiddleware):
    """Adds ``CONTENT_SECURITY_POLICY`` to every response: pages, JSON, event streams, static files.

    Sync and async alike, so an async view (an event stream) never hops to a thread for it.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self.policy = settings.CONTENT_SECURITY_POLICY

    def call(self, request):
        return self._with_policy(self.get_response(request))

    async def acall(self, request):
        return self._with_policy(await self.get_response(request))

    def _with_policy(self, response):
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
