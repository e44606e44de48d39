"""Fixtures of the publisher's command-line tests."""
import pytest

from publisher.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The `congkhai` command's environment: a data and an incoming directory under tmp_path, the
    SQLite default, and a fresh signing key; returns tmp_path."""
    monkeypatch.setenv("CONGKHAI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CONGKHAI_INCOMING_DIR", str(tmp_path / "incoming"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CONGKHAI_SIGNING_KEY", raising=False)
    assert main(["keygen"]) == 0
    return tmp_path
