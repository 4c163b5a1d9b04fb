from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event


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
