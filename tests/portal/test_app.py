"""The app factory: configuration order, no silent development secret, and the portal before any release."""
import pytest

from portal import ConfigurationError, create_app

from .conftest import html, soup


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"CONGKHAI_DATA_DIR": str(tmp_path), "SECRET_KEY": None})
    app = create_app({"CONGKHAI_DATA_DIR": str(tmp_path), "SECRET_KEY": "s3cret"})
    assert not app.testing and app.secret_key == "s3cret"


def test_settings_passed_in_derive_their_paths(tmp_path):
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": str(tmp_path / "d")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'd' / 'congkhai.db'}"
    assert app.config["CONGKHAI_SIGNING_KEY"] == str(tmp_path / "d" / "keys" / "signing.key")
    assert app.config["BABEL_DEFAULT_LOCALE"] == "vi"


@pytest.fixture
def empty_client(empty_app):
    return empty_app.test_client()


def test_before_the_first_release(empty_client):
    home = soup(empty_client.get("/"))
    assert home.find("p", class_="notice").get_text() == "Chưa có kỳ công bố nào."
    assert soup(empty_client.get("/about")).find("dl", class_="statuses")
    assert soup(empty_client.get("/data")).find("section", attrs={"aria-labelledby": "releases-title"})
    for url in ("/lists/offenders", "/search?q=x", "/releases/latest", "/provinces"):
        response = empty_client.get(url)
        assert response.status_code == 404 and "Chưa có kỳ công bố nào." in html(response).get_text()


def test_current_release_is_cached_briefly_per_app(app, monkeypatch):
    from portal import current
    with app.app_context():
        first = current.release()
        calls = []
        monkeypatch.setattr(current.db.session, "scalars", lambda *a, **k: calls.append(a))
        assert current.release() is first and not calls


def test_sqlite_is_read_through_a_memory_map(app):
    """The portal's SQLite connections map the database file (a batch check's lookups cost about a
    quarter less CPU at a million employers); SQLite caps the size at its build's limit."""
    from sqlalchemy import text

    from portal.database import db

    with app.app_context():
        assert db.session.execute(text("PRAGMA mmap_size")).scalar() >= 2 ** 30
