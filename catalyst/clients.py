"""Who is asking: the client's address and the account a log-in names.

Lock-outs and throttles count per address, so the address must be one a
client cannot choose. ``X-Forwarded-For`` is read only when the request came
from a proxy listed in ``TRUSTED_PROXIES``, and then from the right: the
first address that is not one of our proxies is the client.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXY_NETWORKS)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the request came straight from a proxy listed in ``TRUSTED_PROXIES``."""
    return _trusted(request.META.get("REMOTE_ADDR", ""))


def client_address(request: HttpRequest) -> str:
    """The address of the client, as far as trusted proxies vouch for it."""
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    if not _trusted(address):
        return address
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for hop in reversed(forwarded):
        if not _trusted(hop):
            return hop
        address = hop
    return address


def login_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The account a log-in attempt names, spelled the way log-in matches it.

    Log-in ignores case and surrounding spaces, so counting failures must too:
    otherwise every spelling of one address gets its own allowance of guesses.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials and credentials.get(field) is not None:
        raw = credentials[field]
    else:
        raw = getattr(request, "data", request.POST).get(field, "") if request is not None else ""
    return str(raw or "").strip().lower()
