"""What the chat tells the rest of the app as replies start and end (metrics, logs).

Receivers run on the reply loop or in the request's thread: keep them quick,
and never let them touch the database or raise.
"""

from django.dispatch import Signal

#: A reply started (a send, a retry or a continue). Arguments: ``chat_id``,
#: ``user_id``, ``chat_type``, ``provider``, ``model``.
reply_started = Signal()

#: A reply ended and its record was settled. Arguments: ``chat_id``, ``user_id``,
#: ``chat_type``, ``provider``, ``model``, ``status`` (pending no more: complete,
#: interrupted, failed), ``error_kind`` ("" when complete), ``prompt_tokens``,
#: ``response_tokens`` (None when unknown), ``tokens_estimated``,
#: ``first_token_seconds`` (None when no text came) and ``seconds`` (the whole reply).
reply_finished = Signal()
