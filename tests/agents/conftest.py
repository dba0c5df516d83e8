"""The agent smoke tests run on the small untrained world model of ``tests/conftest.py``."""

import pytest


@pytest.fixture(scope="session")
def checkpoint(tiny_checkpoint) -> str:
    return tiny_checkpoint
