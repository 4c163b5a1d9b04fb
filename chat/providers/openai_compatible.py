"""Any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp, LM Studio) through the ``openai`` SDK.

Streams chat completions, retried until the first token; asks for token
usage in the stream and estimates it (saying so) from servers that send
none; answers drafts and proposals with a JSON schema response format, or
JSON mode on servers without one.
"""

import contextlib
import functools
import json
import logging
import ssl
from collections.abc import AsyncIterator
from typing import Self
from urllib.parse import urlsplit

import httpx2
import openai
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

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

#: What local servers without keys are sent: the SDK wants some key, and they ignore it.
NO_KEY = "no-key"
#: About how many characters make a token, for servers that report no usage.
CHARACTERS_PER_TOKEN = 4


class OpenAICompatibleProvider(Provider):
    name = "openai"

    def __init__(
        self,
        *,
        model: str,
        base_url: str = "",
        api_key: str = "",
        timeout: float = 60.0,
        retries: int = 2,
        retry_backoff: float = 1.0,
    ):
        self.model_name = model
        self.base_url = base_url
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.label = f"{_server_name(base_url)} · {model}"

    @classmethod
    def from_settings(cls) -> Self:
        return cls(
            model=settings.OPENAI_MODEL,
            base_url=settings.OPENAI_BASE_URL,
            api_key=settings.OPENAI_API_KEY,
            timeout=settings.CHAT_PROVIDER_TIMEOUT,
            retries=settings.CHAT_PROVIDER_RETRIES,
            retry_backoff=settings.CHAT_PROVIDER_RETRY_BACKOFF,
        )

    def _messages(self, conversation: Conversation) -> list[dict]:
        messages = [{"role": "system", "content": conversation.system_instruction}]
        messages += [
            {"role": "assistant" if turn.role == "model" else "user", "content": turn.text}
            for turn in conversation.turns()
        ]
        return messages

    def _client(self):
        if not self.model_name:
            raise ProviderMisconfigured("No model is configured. An administrator needs to set OPENAI_MODEL.")
        return client_pool.use(self.api_key or NO_KEY, self.base_url, self.timeout)

    async def stream_reply(self, conversation: Conversation) -> AsyncIterator[TextDelta | ReplyFinished]:
        messages = self._messages(conversation)
        async with self._client() as client:
            attempts = retried_until_first_token(
                lambda: self._one_attempt(client, messages), retries=self.retries, backoff=self.retry_backoff
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
        """One structured answer for ``schema``, parsed but unvalidated.

        A JSON schema response format first; a server that refuses it (400)
        is asked again in JSON mode, with the schema in the instruction.
        """
        messages = self._messages(conversation)
        formats = [
            {"type": "json_schema", "json_schema": {"name": what, "schema": schema}},
            {"type": "json_object"},
        ]
        async with self._client() as client:
            for index, response_format in enumerate(formats):
                if response_format["type"] == "json_object":
                    messages[0] = {
                        "role": "system",
                        "content": f"{messages[0]['content']}\n\nAnswer with one JSON object that follows this "
                        f"JSON schema:\n{json.dumps(schema)}",
                    }
                try:
                    completion = await client.chat.completions.create(
                        model=self.model_name, messages=messages, response_format=response_format
                    )
                    break
                except openai.BadRequestError as error:
                    if index + 1 < len(formats):
                        logger.info("The server refused a %s response format; trying the next.", response_format)
                        continue
                    raise _api_error(error) from error
                except openai.APIStatusError as error:
                    raise _api_error(error) from error
                except openai.APIError as error:  # refused, reset, timed out
                    logger.warning("OpenAI-compatible %s request failed: %r", what, error)
                    raise _unreachable(error) from error
        choice = completion.choices[0] if completion.choices else None
        text = (choice.message.content or "") if choice else ""
        if not text.strip():
            raise UnusableAnswer(f"The assistant sent back no {what}.")
        try:
            return json.loads(text)
        except ValueError:
            raise UnusableAnswer(f"The assistant's {what} was not valid JSON.") from None

    async def _one_attempt(self, client: openai.AsyncOpenAI, messages: list[dict]):
        """Stream one request; only ever raises ``ProviderError``."""
        produced = ""
        finish_reason = None
        usage = None
        request = {"model": self.model_name, "messages": messages, "stream_options": {"include_usage": True}}
        try:
            async with contextlib.aclosing(_chunks(client, request)) as chunks:
                async for chunk in chunks:
                    usage = chunk.get("usage") or usage
                    choice = (chunk.get("choices") or [None])[0]
                    if choice is None:
                        continue
                    delta = choice.get("delta") or {}
                    if delta.get("refusal"):
                        raise SafetyBlocked("refused")
                    if text := delta.get("content"):
                        produced += text
                        yield TextDelta(text)
                    finish_reason = choice.get("finish_reason") or finish_reason
        except ProviderError as error:
            if produced and type(error) is ProviderUnavailable:  # an error inside the stream, mid-reply
                raise StreamCut() from error
            raise
        except openai.APIStatusError as error:
            if produced:
                raise StreamCut() from error
            raise _api_error(error) from error
        except Exception as error:  # transport failures: refused, reset, timed out, cut
            if produced:
                raise StreamCut() from error
            logger.warning("OpenAI-compatible request failed before the first token: %r", error)
            raise _unreachable(error) from error
        if finish_reason == "content_filter":
            raise SafetyBlocked("content filter")
        if finish_reason == "length":
            raise OutputLimitReached()
        if finish_reason is None and produced:
            raise StreamCut()  # the stream ended without saying it was finished
        if not produced:
            raise EmptyReply()
        if usage is not None:
            yield ReplyFinished(
                prompt_tokens=usage.get("prompt_tokens"), response_tokens=usage.get("completion_tokens")
            )
        else:  # the server sends no usage: an estimate, marked as one
            prompt = sum(len(message["content"]) for message in messages)
            yield ReplyFinished(
                prompt_tokens=-(-prompt // CHARACTERS_PER_TOKEN),
                response_tokens=-(-len(produced) // CHARACTERS_PER_TOKEN),
                estimated=True,
            )


async def _chunks(client: openai.AsyncOpenAI, request: dict) -> AsyncIterator[dict]:
    """The streamed completion's chunks as plain JSON, through the SDK's own request.

    The SDK's typed chunks cost more CPU than everything else a token goes
    through; its streaming response keeps its authentication, base URL,
    timeout and errors. Leaving it closes the connection, so a Stop reaches
    the server at once.
    """
    async with client.chat.completions.with_streaming_response.create(stream=True, **request) as response:
        async for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            chunk = json.loads(data)
            if error := chunk.get("error"):  # an error reported inside the stream
                message = error.get("message") if isinstance(error, dict) else str(error)
                raise ProviderUnavailable(f"The model server reported an error mid-reply: {str(message)[:200]}")
            yield chunk


class RequestRefused(ProviderUnavailable):
    """A request the server will not take as it is (a 4xx): asking again cannot help."""


def _server_name(base_url: str) -> str:
    host = urlsplit(base_url).hostname or "api.openai.com"
    return "OpenAI" if host.endswith("openai.com") else "OpenAI-compatible"


def _unreachable(error: Exception) -> ProviderUnavailable:
    if isinstance(error, openai.APITimeoutError) or "timeout" in type(error).__name__.lower():
        return ProviderUnavailable("The assistant did not answer in time. Try again in a moment.")
    return ProviderUnavailable("Could not reach the assistant's model server. Try again in a moment.")


def _api_error(error: openai.APIStatusError) -> ProviderError:
    code = error.status_code
    body = error.body if isinstance(error.body, dict) else {}
    kind = str(body.get("code") or body.get("type") or "")
    if code == 429:
        return RateLimited(_retry_after(error.response))
    if "content_filter" in kind or "content_policy" in kind:
        return SafetyBlocked("content filter")
    if code in (401, 403):
        return ProviderMisconfigured(
            "The model server rejected the credentials. An administrator needs to check OPENAI_API_KEY."
        )
    if code == 404:
        return ProviderMisconfigured(
            "The model server does not know the configured model. An administrator needs to check OPENAI_MODEL "
            "and OPENAI_BASE_URL."
        )
    if code >= 500 or code == 408:
        return ProviderUnavailable(
            f"The assistant is unavailable right now (server error {code}). Try again in a moment."
        )
    message = str(body.get("message") or error.message or "")[:200]
    return RequestRefused(f"The assistant could not answer this request ({code} {message}).")


def _retry_after(response) -> float | None:
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) / scale)
            except ValueError:
                continue
    return None


def _client_build(api_key: str, base_url: str, timeout: float) -> openai.AsyncOpenAI:
    # One client serves every reply on its loop: as many connections as replies may run at once.
    limits = httpx2.Limits(max_connections=settings.CHAT_MAX_STREAMS, max_keepalive_connections=100)
    # A plain-http server (a local model) needs no CA store; this context trusts nothing, so a
    # redirect to https fails instead of going unverified.
    verify = _trusting_nothing() if urlsplit(base_url).scheme == "http" else True
    http_client = httpx2.AsyncClient(limits=limits, verify=verify, timeout=timeout)
    # Retries are ours (before the first token only), so the SDK makes none.
    return openai.AsyncOpenAI(
        api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=0, http_client=http_client
    )


@functools.cache
def _trusting_nothing() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


async def _client_aclose(client: openai.AsyncOpenAI) -> None:
    await client.close()


def _client_drop(client: openai.AsyncOpenAI) -> None:
    """A client whose loop has closed: its connections went with the loop."""


client_pool = ClientPool(build=_client_build, aclose=_client_aclose, close=_client_drop)


@receiver(setting_changed)
def _client_settings_changed(*, setting: str, **kwargs) -> None:
    if setting in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CHAT_PROVIDER_TIMEOUT"):
        client_pool.retire()
