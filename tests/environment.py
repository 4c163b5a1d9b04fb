"""Environment for the test run, loaded as a pytest plugin (``-p``) so it is
in place before pytest-django reads the settings.

Tests never reach a real model provider: the offline one is the default and
the Gemini tests point ``GEMINI_BASE_URL`` at the fake server.
"""

import os

# A developer's own .env (``make run`` writes one) never reaches the tests or the servers they start.
os.environ["ENV_FILE"] = ""

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ["AI_PROVIDER"] = "offline"
os.environ["GEMINI_API_KEY"] = ""
os.environ["GEMINI_BASE_URL"] = ""
os.environ["SECURE_COOKIES"] = "0"
# The tests' servers speak plain HTTP, as a site behind a TLS-ending proxy sees it.
os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["SECURE_HSTS_SECONDS"] = "0"
os.environ["OPENAI_API_KEY"] = ""
os.environ["OPENAI_BASE_URL"] = ""
# Errors from a test run never reach a real Sentry (catalyst/tests/test_error_tracking.py uses a fake).
os.environ["SENTRY_DSN"] = ""
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
