"""Fixtures shared by every test package: settings pointing at a temporary data directory."""
from __future__ import annotations

import os

import pytest

from congkhai.config import load_settings


@pytest.fixture
def settings(tmp_path):
    """Settings for a run whose database, releases and keys all live under tmp_path."""
    return load_settings(env={}, CONGKHAI_DATA_DIR=str(tmp_path / "data"),
                         DATABASE_URL=os.environ.get("CONGKHAI_TEST_DATABASE_URL") or None)
