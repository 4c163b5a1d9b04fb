"""Error tracking with Sentry: unhandled errors (and ERROR log lines), never personal data.

Started from the settings only when ``SENTRY_DSN`` is set. An event keeps
the request's method, its URL without the query string and a few harmless
headers; its body, cookies, query string, every other header (Authorization,
Cookie, X-CSRFToken, …), the user and the frames' local variables never leave.
Each event is tagged with the request id its log lines carry.
"""

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

from catalyst.logs import request_id_var

KEPT_HEADERS = frozenset({"accept", "content-length", "content-type", "hx-request", "user-agent", "x-request-id"})


def scrub_event(event: dict, hint: dict) -> dict:
    """What leaves for Sentry: the event without personal data (``before_send``)."""
    request = event.get("request")
    if request:
        headers = request.get("headers") or {}
        event["request"] = {
            **{key: request[key] for key in ("method", "url") if key in request},
            "headers": {name: value for name, value in headers.items() if name.lower() in KEPT_HEADERS},
        }
    event.pop("user", None)
    request_id = request_id_var.get()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    """Start sending errors to ``dsn``; an empty release lets the SDK find one (``SENTRY_RELEASE``, git).

    ``send_default_pii`` is left unset, which is off: this sentry-sdk marks the
    option itself deprecated (for ``data_collection``, which would also turn
    off its own scrubber of secret-looking keys, which we keep).
    """
    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        environment=environment,
        release=release or None,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate or None,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
    )
