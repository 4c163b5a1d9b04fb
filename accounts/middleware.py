import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, alogout, logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from catalyst.middleware import SyncAndAsyncMiddleware

#: When the session signed in, and when it last renewed its idle timeout (seconds since the epoch).
SIGNED_IN_AT = "_signed_in_at"
RENEWED_AT = "_renewed_at"


@receiver(user_logged_in, dispatch_uid="accounts.session_signed_in")
def session_signed_in(sender, request, user, **kwargs) -> None:
    """Start the session's lifetime at sign-in."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = request.session[RENEWED_AT] = int(time.time())


class SessionLifetimeMiddleware(SyncAndAsyncMiddleware):
    """A session ends ``SESSION_COOKIE_AGE`` after its last request, and ``SESSION_MAX_LIFETIME`` after sign-in.

    The idle timeout is Django's own expiry, renewed by saving the session at
    most every ``SESSION_RENEW_INTERVAL`` seconds (not on every request); the
    absolute lifetime is checked here. A session past it is signed out
    before the view runs, which then sees an anonymous visitor. Sessions
    from before sign-in times were kept start their lifetime now.
    """

    def call(self, request):
        if SESSION_KEY in request.session:
            now = int(time.time())
            signed_in_at = request.session.setdefault(SIGNED_IN_AT, now)
            if now - signed_in_at > settings.SESSION_MAX_LIFETIME:
                logout(request)
            elif now - request.session.get(RENEWED_AT, 0) > settings.SESSION_RENEW_INTERVAL:
                request.session[RENEWED_AT] = now
        return self.get_response(request)

    async def acall(self, request):
        if await request.session.ahas_key(SESSION_KEY):
            now = int(time.time())
            signed_in_at = await request.session.asetdefault(SIGNED_IN_AT, now)
            if now - signed_in_at > settings.SESSION_MAX_LIFETIME:
                await alogout(request)
            elif now - await request.session.aget(RENEWED_AT, 0) > settings.SESSION_RENEW_INTERVAL:
                await request.session.aset(RENEWED_AT, now)
        return await self.get_response(request)


class AppLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Send anonymous visitors of any page to the login page and back after.

    The JSON API under ``/api/`` answers 401 in its own error shape instead of
    redirecting, so it is left to the API's authentication. An HTMX request
    (the session ended in another tab, or expired) gets a redirect the whole
    page follows, back to the page it came from, instead of the login page
    swapped into a fragment; the ``signedOut`` event lets the page keep what
    was being typed until the user is back (``static/js/app.js``).
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(self, request, view_func):
        htmx = getattr(request, "htmx", None)
        if not htmx:
            return super().handle_no_permission(request, view_func)
        page = htmx.current_url_abs_path or request.get_full_path()
        login = redirect_to_login(page, self.get_login_url(view_func), self.get_redirect_field_name(view_func))
        return trigger_client_event(HttpResponseClientRedirect(login.url), "signedOut", {})
