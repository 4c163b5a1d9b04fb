import pytest


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Hashed static names need collectstatic; tests serve the source files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
