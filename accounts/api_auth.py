"""How API callers prove who they are: a personal token or the session."""

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import aget_user
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from accounts.models import ApiToken


def _token_user(token: str):
    found = ApiToken.objects.find(token)
    if found is None:
        return None
    found.touch()
    return found.user


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a token from the profile page."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = _token_user(token)
        if user is not None:
            request.user = user
        return user


class AsyncBearerTokenAuth(HttpBearer):
    is_async = True

    async def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = await sync_to_async(_token_user)(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser session; writes also need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return self._checked(request, request.user)

    def _checked(self, request: HttpRequest, user) -> Any:
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie.")
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover - __call__ decides
        return None


class AsyncSessionAuth(SessionAuth):
    is_async = True

    async def __call__(self, request: HttpRequest) -> Any:
        user = await aget_user(request)
        if not user.is_authenticated:
            return None
        request.user = user
        return await sync_to_async(self._checked)(request, user)
