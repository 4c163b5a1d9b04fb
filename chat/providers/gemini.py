"""Gemini through google-genai's async transport, retried until the first token."""

import contextlib
import functools
import json
import logging
import re
import ssl
from collections.abc import AsyncIterator
from typing import Self
from urllib.parse import urlsplit

import httpx2
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from google import genai
from google.genai import errors, types

from chat.providers.base import (
    Conversation,
    EmptyReply,
    OutputLimitReached,
    Provider,
    ProviderError,
    ProviderMisconfigured,
    ProviderUnavailable,
    RateLimited,
    ReplyFinished,
    SafetyBlocked,
    StreamCut,
    TextDelta,
    UnusableAnswer,
    retried_until_first_token,
)
from chat.providers.clients import ClientPool
from projects.drafts import SCHEMA as DRAFT_SCHEMA
from projects.proposals import SCHEMA as PROPOSAL_SCHEMA

logger = logging.getLogger(__name__)

# Finish reasons that mean "blocked", and the category to show when the
# response carries no safety rating.
_BLOCKING_FINISH_REASONS = {
    "SAFETY": None,
    "RECITATION": "recitation",
    "BLOCKLIST": "blocklist",
    "PROHIBITED_CONTENT": "prohibited content",
    "SPII": "personal information",
    "IMAGE_SAFETY": None,
}


class GeminiProvider(Provider):
    name = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str = "",
        timeout: float = 60.0,
        retries: int = 2,
        retry_backoff: float = 1.0,
    ):
        self.api_key = api_key
        self.model_name = model
        self.base_url = base_url
        self.timeout = timeout
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.label = f"Gemini · {model}"

    @classmethod
    def from_settings(cls) -> Self:
        return cls(
            api_key=settings.GEMINI_API_KEY,
            model=settings.GEMINI_MODEL,
            base_url=settings.GEMINI_BASE_URL,
            timeout=settings.CHAT_PROVIDER_TIMEOUT,
            retries=settings.CHAT_PROVIDER_RETRIES,
            retry_backoff=settings.CHAT_PROVIDER_RETRY_BACKOFF,
        )

    def _request(self, conversation: Conversation) -> tuple[str, dict]:
        """The REST path and JSON body of a streamed ``generateContent`` for ``conversation``."""
        body = {
            "contents": [{"role": turn.role, "parts": [{"text": turn.text}]} for turn in conversation.turns()],
            "systemInstruction": {"role": "user", "parts": [{"text": conversation.system_instruction}]},
        }
        return f"models/{self.model_name}:streamGenerateContent?alt=sse", body

    async def stream_reply(self, conversation: Conversation) -> AsyncIterator[TextDelta | ReplyFinished]:
        if not self.api_key:
            raise ProviderMisconfigured(
                "The Gemini provider has no API key. Set GEMINI_API_KEY, or use the offline one."
            )
        request = self._request(conversation)
        async with client_pool.use(self.api_key, self.base_url, self.timeout) as client:
            attempts = retried_until_first_token(
                lambda: self._one_attempt(client, request), retries=self.retries, backoff=self.retry_backoff
            )
            async with contextlib.aclosing(attempts):
                async for event in attempts:
                    yield event

    async def draft_project(self, conversation: Conversation, *, current: dict, problem: str = "") -> dict:
        # ``current`` and ``problem`` are in the conversation's instruction already.
        return await self._structured(conversation, DRAFT_SCHEMA, what="draft")

    async def propose_changes(
        self, conversation: Conversation, *, kind: str, task_id: str = "", problem: str = ""
    ) -> dict:
        # The kind, the task and ``problem`` are in the conversation's instruction already.
        return await self._structured(conversation, PROPOSAL_SCHEMA, what="proposal")

    async def _structured(self, conversation: Conversation, schema: dict, *, what: str) -> dict:
        """One structured-output call: the model's JSON answer for ``schema``, parsed but unvalidated."""
        if not self.api_key:
            raise ProviderMisconfigured(
                "The Gemini provider has no API key. Set GEMINI_API_KEY, or use the offline one."
            )
        config = types.GenerateContentConfig(
            system_instruction=conversation.system_instruction,
            response_mime_type="application/json",
            response_json_schema=schema,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        contents = [types.Content(role=turn.role, parts=[types.Part(text=turn.text)]) for turn in conversation.turns()]
        async with client_pool.use(self.api_key, self.base_url, self.timeout) as client:
            try:
                response = await client.aio.models.generate_content(
                    model=self.model_name, contents=contents, config=config
                )
            except errors.APIError as error:
                raise _api_error(error) from error
            except Exception as error:  # transport failures: refused, reset, timed out
                logger.warning("Gemini %s request failed: %r", what, error)
                raise ProviderUnavailable(
                    "Could not reach the assistant (Gemini). Check the connection and try again in a moment."
                ) from error
        text = response.text or ""
        if not text.strip():
            raise UnusableAnswer(f"The assistant sent back no {what}.")
        try:
            return json.loads(text)
        except ValueError:
            raise UnusableAnswer(f"The assistant's {what} was not valid JSON.") from None

    async def _one_attempt(
        self, client: genai.Client, request: tuple[str, dict]
    ) -> AsyncIterator[TextDelta | ReplyFinished]:
        """Stream one request; only ever raises ``ProviderError``."""
        produced = False
        finish_reason = None
        blocked = None
        usage = ReplyFinished()
        try:
            async with contextlib.aclosing(_chunks(client, *request)) as chunks:
                async for chunk in chunks:
                    # A block arrives as the stream's last chunk: read to the end, then raise.
                    blocked = blocked or _prompt_block(chunk)
                    candidate = (chunk.get("candidates") or [None])[0]
                    if candidate is not None:
                        parts = (candidate.get("content") or {}).get("parts") or ()
                        text = "".join(part.get("text") or "" for part in parts if not part.get("thought"))
                        if text:
                            produced = True
                            yield TextDelta(text)
                        if candidate.get("finishReason"):
                            finish_reason = candidate["finishReason"]
                            if finish_reason in _BLOCKING_FINISH_REASONS:
                                blocked = _safety_category(candidate, finish_reason)
                    if metadata := chunk.get("usageMetadata"):
                        usage = ReplyFinished(
                            prompt_tokens=metadata.get("promptTokenCount"),
                            response_tokens=metadata.get("candidatesTokenCount"),
                        )
        except ProviderError:
            raise
        except errors.APIError as error:
            if produced:
                raise StreamCut() from error
            raise _api_error(error) from error
        except Exception as error:  # transport failures: refused, reset, timed out, cut
            if produced:
                raise StreamCut() from error
            logger.warning("Gemini request failed before the first token: %r", error)
            if _is_timeout(error):
                raise ProviderUnavailable("The assistant did not answer in time. Try again in a moment.") from error
            raise ProviderUnavailable(
                "Could not reach the assistant (Gemini). Check the connection and try again in a moment."
            ) from error
        if blocked:
            raise SafetyBlocked(blocked)
        if finish_reason == "MAX_TOKENS":
            raise OutputLimitReached()
        if finish_reason is None and produced:
            # The stream ended without saying it was finished.
            raise StreamCut()
        if not produced:
            raise EmptyReply()
        yield usage


async def _chunks(client: genai.Client, path: str, body: dict) -> AsyncIterator[dict]:
    """The streamed response's chunks as plain JSON, through the SDK's own transport.

    The SDK's public stream turns every chunk into typed models (and its lower
    ``async_request_streamed`` into JSON text and a model again), which cost
    more CPU than everything else a token goes through. Its transport keeps
    the SDK's authentication, base URL, timeout, retries and ``APIError``;
    these are private names of the pinned google-genai version, and every
    Gemini test goes through them.
    """
    api = client.aio._api_client
    response = await api._async_request(http_request=api._build_request("post", path, body), stream=True)
    segments = response.async_segments()
    async with contextlib.aclosing(segments):
        async for chunk in segments:
            if "error" in chunk:  # an error reported inside the stream
                await errors.APIError.raise_error_async(chunk["error"].get("code"), chunk, response)
            yield chunk


def _is_timeout(error: Exception) -> bool:
    return "timeout" in type(error).__name__.lower() or isinstance(error, TimeoutError)


def _prompt_block(chunk: dict) -> str | None:
    feedback = chunk.get("promptFeedback") or {}
    if not feedback.get("blockReason"):
        return None
    for rating in feedback.get("safetyRatings") or ():
        if rating.get("blocked"):
            return _category_label(rating.get("category"))
    return feedback["blockReason"].replace("_", " ").lower()


def _safety_category(candidate: dict, finish_reason: str) -> str:
    ratings = candidate.get("safetyRatings") or ()
    flagged = [r for r in ratings if r.get("blocked")] or [
        r for r in ratings if r.get("probability") in ("HIGH", "MEDIUM")
    ]
    if flagged:
        return _category_label(flagged[0].get("category"))
    return _BLOCKING_FINISH_REASONS.get(finish_reason) or "unspecified"


def _category_label(category: str | None) -> str:
    return re.sub(r"^HARM_CATEGORY_", "", category or "").replace("_", " ").lower() or "unspecified"


def _api_error(error) -> ProviderError:
    code = error.code or 0
    status = (error.status or "").upper()
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        return RateLimited(_retry_after(error))
    if code in (401, 403) or status in ("UNAUTHENTICATED", "PERMISSION_DENIED") or "API_KEY" in str(error.details):
        return ProviderMisconfigured(
            "The assistant rejected the server's credentials. An administrator needs to check GEMINI_API_KEY."
        )
    if code == 404:
        return ProviderMisconfigured(
            "The configured Gemini model was not found. An administrator needs to check GEMINI_MODEL."
        )
    if code >= 500 or code in (408, 0):
        return ProviderUnavailable(
            f"The assistant is unavailable right now (server error {code}). Try again in a moment."
        )
    return ProviderUnavailable(f"The assistant could not answer this request ({code} {error.message or status}).")


def _retry_after(error) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    header = headers.get("retry-after") if hasattr(headers, "get") else None
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    details = error.details if isinstance(error.details, dict) else {}
    for detail in details.get("error", {}).get("details", []) or []:
        if isinstance(detail, dict) and detail.get("@type", "").endswith("RetryInfo"):
            match = re.fullmatch(r"([\d.]+)s", str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _client_build(api_key: str, base_url: str, timeout: float) -> genai.Client:
    options = types.HttpOptions(base_url=base_url or None, api_version="v1beta", timeout=int(timeout * 1000))
    if urlsplit(base_url).scheme == "http":
        # The SDK would load the CA store into two SSL contexts that a plain-http endpoint never
        # uses ("verify" for httpx, "ssl" for its websocket and aiohttp transports). This one
        # trusts no certificate, so a redirect to https fails instead of going unverified.
        context = _trusting_nothing()
        options.client_args = {"verify": context}
        options.async_client_args = {"verify": context, "ssl": context}
    # One client serves every reply of the process: as many connections as replies may run
    # at once (httpx's default of 100 would hold the rest back before their first token).
    limits = httpx2.Limits(max_connections=settings.CHAT_MAX_STREAMS, max_keepalive_connections=100)
    options.async_client_args = {**(options.async_client_args or {}), "limits": limits}
    return genai.Client(api_key=api_key, http_options=options)


@functools.cache
def _trusting_nothing() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


async def _client_aclose(client: genai.Client) -> None:
    await client.aio.aclose()
    client.close()


#: One client per event loop and (API key, base URL, timeout), shared by its replies.
client_pool = ClientPool(build=_client_build, aclose=_client_aclose, close=genai.Client.close)


@receiver(setting_changed)
def _client_settings_changed(*, setting: str, **kwargs) -> None:
    # Clients are keyed by these values, so none serves other settings; retiring them
    # here closes their connections now rather than at the next reply on their loop.
    if setting in ("GEMINI_API_KEY", "GEMINI_BASE_URL", "CHAT_PROVIDER_TIMEOUT"):
        client_pool.retire()
