"""The model providers behind the planning chat.

``get_provider()`` builds the provider that ``AI_PROVIDER`` names from the
``AI_PROVIDERS`` setting (``auto``: Gemini when ``GEMINI_API_KEY`` is set,
else an OpenAI-compatible server when ``OPENAI_BASE_URL`` or ``OPENAI_API_KEY``
is, else offline). A provider module is imported only when it is chosen, so the
Gemini SDK never loads for the offline assistant.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from chat.providers.base import (
    Conversation,
    EmptyReply,
    OutputLimitReached,
    ProjectFacts,
    Provider,
    ProviderError,
    ProviderMisconfigured,
    ProviderUnavailable,
    RateLimited,
    ReplyFinished,
    SafetyBlocked,
    SitePage,
    StreamCut,
    TaskFacts,
    TextDelta,
    Turn,
    UnusableAnswer,
)

__all__ = [
    "Conversation",
    "UnusableAnswer",
    "EmptyReply",
    "OutputLimitReached",
    "ProjectFacts",
    "Provider",
    "ProviderError",
    "ProviderMisconfigured",
    "ProviderUnavailable",
    "RateLimited",
    "ReplyFinished",
    "SafetyBlocked",
    "SitePage",
    "StreamCut",
    "TaskFacts",
    "TextDelta",
    "Turn",
    "get_provider",
]


def get_provider() -> Provider:
    """The provider the settings choose, configured from them."""
    name = settings.AI_PROVIDER
    if name == "auto":
        if settings.GEMINI_API_KEY:
            name = "gemini"
        elif settings.OPENAI_BASE_URL or settings.OPENAI_API_KEY:
            name = "openai"
        else:
            name = "offline"
    return import_string(settings.AI_PROVIDERS[name]).from_settings()
