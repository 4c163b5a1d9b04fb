"""Metrics across workers: a real uvicorn with ``--workers 2`` in multiprocess mode.

Each request opens a connection of its own, so both workers take a share;
whichever worker answers a scrape must report both workers' figures added up.
"""

import glob
import time

import httpx
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from catalyst import metrics
from tests.live_site import live_site

TOKEN = "scrape-token-for-workers"
HEALTH_CHECKS = 30
SENDS = 6


def _scrape(url: str) -> dict[tuple[str, frozenset], float]:
    response = httpx.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _replies_finished(samples: dict) -> float:
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == "catalyst_chat_replies_finished_total" and ("status", "complete") in labels
    )


def _health_checks_per_worker(folder) -> dict[str, float]:
    """What each worker's own file says of the health route (counter_<pid>.db)."""
    counts: dict[str, float] = {}
    for path in glob.glob(f"{folder}/counter_*.db"):
        pid = path.rsplit("_", 1)[1].removesuffix(".db")
        for family in MultiProcessCollector.merge([path]):
            for sample in family.samples:
                if sample.name == "catalyst_http_requests_total" and sample.labels.get("route") == "api:health":
                    counts[pid] = counts.get(pid, 0) + sample.value
    return counts


def test_two_workers_report_their_figures_added_up(tmp_path, monkeypatch):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(folder), "METRICS_TOKEN": TOKEN, "CHAT_OFFLINE_CHUNK_DELAY": "0"}
    with live_site(tmp_path, workers=2, **env) as site:
        url = site.urls[0]
        before = _scrape(url)  # the start-up checks asked for health too
        for _ in range(HEALTH_CHECKS):
            assert httpx.get(f"{url}/api/health", headers={"Connection": "close"}, timeout=10).status_code == 200
        for n in range(SENDS):
            response = site.send(f"Plan step {n}")
            assert response.status_code == 200, response.text
        # A reply is counted just after its answer is sent: wait until all are.
        deadline = time.monotonic() + 10
        while _replies_finished(_scrape(url)) < SENDS:
            assert time.monotonic() < deadline, "the replies were never all counted"
            time.sleep(0.1)
        scrapes = [_scrape(url) for _ in range(6)]

    # The workers ended by their signal, leaving their live gauges: the next reading drops those
    # (no worker is writing a reply any more) and keeps what they counted.
    assert len(glob.glob(f"{folder}/gauge_live*.db")) == 2
    monkeypatch.setattr(metrics, "MULTIPROCESS_DIR", str(folder))
    afterwards = [sample for family in metrics.recorded_metrics() for sample in family.samples]
    assert not glob.glob(f"{folder}/gauge_live*.db")
    assert sum(sample.value for sample in afterwards if sample.name == "catalyst_chat_replies_live") == 0
    assert sum(sample.value for sample in afterwards if sample.name == "catalyst_chat_replies_started_total") == SENDS
    per_worker = _health_checks_per_worker(folder)
    assert len(per_worker) == 2 and all(per_worker.values()), per_worker  # both workers served some
    labels = {"route": "api:health", "method": "GET", "status": "2xx"}
    health = ("catalyst_http_requests_total", frozenset(labels.items()))
    live = ("catalyst_chat_replies_live", frozenset())
    for samples in scrapes:  # whichever worker answered
        assert samples[health] - before[health] == HEALTH_CHECKS
        assert _replies_finished(samples) == SENDS
        assert samples[live] == 0
        started = sum(v for (name, _), v in samples.items() if name == "catalyst_chat_replies_started_total")
        assert started == SENDS
        assert samples[("catalyst_store_rows", frozenset({("collection", "users")}))] == 1
