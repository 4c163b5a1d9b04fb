import pytest
from django.core.cache import cache


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, a test database file of this run's own, not the in-memory default.

    Threads and servers in the tests then meet WAL and the busy timeout, as
    production does, and runs side by side never share a file.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["TEST"] = {**database.get("TEST", {}), "NAME": tmp_path_factory.mktemp("db") / "test.sqlite3"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Lock-outs and rate limits live in the cache; no test inherits another's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Hashed static names need collectstatic; tests serve the source files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# --- A signed-in user and what they own. ---


@pytest.fixture
def user(client):
    """A user the test ``client`` is signed in as."""
    from tests.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    return user


@pytest.fixture
def project(user):
    """A project of ``user``'s, with no tasks yet."""
    from tests.factories import ProjectFactory

    return ProjectFactory(owner=user, name="Compiler")


@pytest.fixture
def bearer(user) -> dict:
    """Headers that authenticate API calls as ``user``."""
    from tests.factories import bearer_headers

    return bearer_headers(user)


@pytest.fixture
def staff_client(client):
    """The test client, signed in as a superuser."""
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def quick_password_hashes(settings):
    """Cheap password hashes, for tests that copy or move hashes rather than check their strength.

    Argon2 costs half a second a user.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- The planning chat: quick intervals, and the fake Gemini server. ---


@pytest.fixture
def quick_chat(settings):
    """Short intervals so streaming tests finish fast; no reply outlives its test.

    The cache is emptied first: send counts and leases are keyed by ids, which
    a fresh test database hands out again.
    """
    cache.clear()
    settings.CHAT_OFFLINE_CHUNK_DELAY = 0.001
    settings.CHAT_FLUSH_INTERVAL = 0.05
    settings.CHAT_POLL_INTERVAL = 0.05
    settings.CHAT_PROVIDER_RETRY_BACKOFF = 0.01
    # Rate windows far longer than any test, so no window boundary falls inside one.
    settings.CHAT_SEND_WINDOW = settings.CHAT_SAVE_WINDOW = 3600
    yield
    from chat.generation import generations_stop_all

    generations_stop_all()


@pytest.fixture
def fake_gemini(settings):
    """The real google-genai client talking to a local fake Gemini server."""
    from tests.fake_gemini import FakeGemini

    server = FakeGemini().start()
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = "test-key"
    settings.GEMINI_BASE_URL = server.url
    settings.GEMINI_MODEL = "gemini-test-model"
    settings.CHAT_PROVIDER_TIMEOUT = 5
    yield server
    from chat.generation import generations_stop_all

    generations_stop_all()
    server.stop()


@pytest.fixture
def fake_openai(settings):
    """The real openai client talking to a local fake OpenAI-compatible server (no key, as a local one)."""
    from tests.fake_openai import FakeOpenAI

    server = FakeOpenAI().start()
    settings.AI_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = server.url
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_MODEL = "test-model"
    settings.CHAT_PROVIDER_TIMEOUT = 5
    yield server
    from chat.generation import generations_stop_all

    generations_stop_all()
    server.stop()


@pytest.fixture(params=["gemini", "openai"])
def fake_model(request, settings):
    """The chat's behaviour once per model provider: each one's fake server, scripted alike.

    ``provider`` and ``model`` say which one it is, as a reply records them.
    """
    server = request.getfixturevalue(f"fake_{request.param}")
    server.provider = request.param
    server.model = settings.GEMINI_MODEL if request.param == "gemini" else settings.OPENAI_MODEL
    return server


# --- Browser journeys: a real headless Chromium driven by Playwright. ---

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def _chromium_path() -> str | None:
    import os
    import shutil

    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def chromium_path() -> str:
    """The Chromium to drive; skipped (or failed, in CI) when absent."""
    import os

    path = _chromium_path()
    if path is None:
        message = "Chromium is not installed; browser journeys need it (see README)."
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def page(chromium_path, live_server, request):
    """A headless Chromium tab pointed at the live server.

    ``page.goto("/accounts/login/")`` takes paths relative to the server. A
    screenshot is kept under test-artifacts/ when the test fails. Playwright's
    sync API runs an event loop in this thread, which Django would take for
    async code, so the guard is lifted only while the browser is open.
    """
    import os

    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
            context.set_default_timeout(10_000)
            tab = context.new_page()
            yield tab
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                os.makedirs("test-artifacts", exist_ok=True)
                tab.screenshot(path=f"test-artifacts/{request.node.name}.png", full_page=True)
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


@pytest.fixture
def log_in(page):
    """Log ``user`` in through the real login form in ``page``."""
    from tests.factories import DEFAULT_PASSWORD

    def _log_in(user, password: str = DEFAULT_PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return _log_in


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A real Redis of this run's own; skipped (or failed, in CI) when absent."""
    import os

    from tests.redis_server import redis_command, redis_server

    if redis_command() is None:
        message = "redis-server is not installed; the tests that share limits between workers need it (see README)."
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail(message)
        pytest.skip(message)
    with redis_server() as url:
        yield url


@pytest.fixture
def asgi_server(transactional_db):
    """``catalyst.asgi:application`` served by a real uvicorn in a thread; yields its URL."""
    import socket
    import threading
    import time

    import uvicorn

    from chat.generation import generations_stop_all

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config("catalyst.asgi:application", log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    generations_stop_all()
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
