"""Limits hold across server processes: two uvicorn workers on one site.

A real uvicorn with ``--workers 2`` (each worker its own process, as in
production), a real ``redis-server`` and an SQLite file; requests open a fresh
connection each, so both workers take a share.
"""

from tests.live_site import live_site

SENDS = 40
LIMIT = 20
# A window longer than the test, so no boundary falls inside it.
LIMITS = {"CHAT_SEND_LIMIT": str(LIMIT), "CHAT_SEND_WINDOW": "86400", "CHAT_OFFLINE_CHUNK_DELAY": "0"}


def _sends_accepted(tmp_path, **env) -> tuple[int, str]:
    """Send SENDS messages as one user to two workers; (accepted, server log)."""
    with live_site(tmp_path, workers=2, **LIMITS, **env) as site:
        accepted = 0
        for n in range(SENDS):
            response = site.send(f"Message {n}")  # to either worker
            assert response.status_code in (200, 429), response.text
            accepted += response.status_code == 200
        return accepted, site.log_text()


def test_with_redis_two_workers_share_one_send_limit(tmp_path, redis_url):
    accepted, server_log = _sends_accepted(tmp_path, CACHE_URL=redis_url)

    assert accepted == LIMIT
    assert "Several workers share no cache" not in server_log


def test_without_a_shared_cache_two_workers_warn_and_each_count_alone(tmp_path):
    accepted, server_log = _sends_accepted(tmp_path)

    # The control: each worker allowed its own twenty, which is why Redis is needed.
    assert accepted > LIMIT
    assert server_log.count("Several workers share no cache") == 2
