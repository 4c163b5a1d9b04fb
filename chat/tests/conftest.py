"""Fixtures for the chat tests: quick intervals (the root conftest's)."""

import pytest


@pytest.fixture(autouse=True)
def _quick_chat(quick_chat):
    yield
