from django.contrib.auth.middleware import LoginRequiredMiddleware


class AppLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Send anonymous visitors of any page to the login page and back after.

    The JSON API under ``/api/`` answers 401 in its own error shape instead of
    redirecting, so it is left to the API's authentication.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
