"""What a server process says about its configuration as it starts."""

import logging
import multiprocessing
import os
import sys

from django.conf import settings

logger = logging.getLogger("catalyst")

PER_PROCESS_CACHES = ("LocMemCache", "DummyCache")


def worker_count() -> int:
    """How many server processes this one is among, as far as it can tell."""
    declared = os.environ.get("WEB_CONCURRENCY", "")
    args = sys.argv
    for flag in ("--workers", "-w"):
        if flag in args[:-1]:
            declared = args[args.index(flag) + 1]
    declared = next((arg.split("=", 1)[1] for arg in args if arg.startswith("--workers=")), declared)
    try:
        count = int(declared)
    except ValueError:
        count = 1
    # uvicorn starts its workers as child processes of a supervisor.
    if count <= 1 and multiprocessing.parent_process() is not None:
        count = 2
    return count


def warn_about_per_process_limits() -> None:
    """Limits kept in a per-process cache do not add up across workers: say so."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or not backend.endswith(PER_PROCESS_CACHES) or worker_count() <= 1:
        return
    logger.warning(
        "Several workers share no cache: log-in lock-outs, password-reset throttles and chat rate limits "
        "count per worker, so each worker allows the full limit. Set CACHE_URL=redis://… to share them."
    )
