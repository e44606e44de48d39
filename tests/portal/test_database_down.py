"""The database goes away and comes back: the portal says so in the reader's language (JSON under
/api/) with Retry-After (at least 30 s; the rate limiter may name its own, later, window reset),
and serves again by itself, with no restart.

The portal reaches a real PostgreSQL through a small TCP relay that the test stops (closing every
connection the pool holds, then refusing new ones) and starts again on the same port.
"""
import os
import socket
import threading
import uuid
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from congkhai.migrations import upgrade
from portal.database import db
from portal import create_app
from portal.guards import DATABASE_RETRY_SECONDS
from tests.conftest import POSTGRES_URL, _postgres_available

from .conftest import html

RELAY_PORT = 5121


class Relay:
    """127.0.0.1:port -> the PostgreSQL server, until stopped; every connection closes with it."""

    def __init__(self, port: int, target: tuple[str, int]):
        self.port, self.target = port, target
        self.listener = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def stop(self):
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone does not, on Linux)
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.sockets.clear()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def relayed_schema(tmp_path):
    """A fresh PostgreSQL schema with the portal's tables, and a relay in front of the server."""
    reason = _postgres_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    server = urlsplit(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"))
    relay = Relay(RELAY_PORT, (server.hostname, server.port or 5432))
    relay.start()
    url = POSTGRES_URL.replace(f"{server.hostname}:{server.port or 5432}", f"127.0.0.1:{RELAY_PORT}")
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": str(tmp_path / "data"),
                      "DATABASE_URL": f"{url}?options=-csearch_path%3D{schema}"})
    with app.app_context():
        upgrade(db.engine)  # the migrations, as production's database gets them
    yield app, relay
    relay.stop()
    with app.app_context():
        db.engine.dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.mark.postgres
def test_the_portal_says_it_is_unavailable_and_recovers_by_itself(relayed_schema):
    app, relay = relayed_schema
    client = app.test_client()
    assert client.get("/data.json").status_code == 200
    assert client.get("/api/v1/releases").status_code == 200           # the pool now holds a connection

    relay.stop()
    cached = client.get("/data.json")                                    # rendered before: still served
    assert cached.status_code == 200 and cached.headers["X-Cache"] == "hit"
    for _ in range(2):                                                   # the held connection, then new ones
        page = client.get("/data")                                       # not rendered yet
        assert page.status_code == 503 and int(page.headers["Retry-After"]) >= DATABASE_RETRY_SECONDS
        assert "Hiện không thể đọc dữ liệu" in html(page).find("p", class_="lead").get_text()
        assert html(page).html["lang"] == "vi" and "Traceback" not in page.get_data(as_text=True)
    english = client.get("/data?lang=en")
    assert english.status_code == 503 and "cannot be read at the moment" in english.get_data(as_text=True)
    api = client.get("/api/v1/releases?lang=en")
    assert api.status_code == 503 and int(api.headers["Retry-After"]) >= DATABASE_RETRY_SECONDS
    assert api.get_json()["error"]["code"] == "unavailable" and api.get_json()["error"]["status"] == 503
    assert api.headers["Cache-Control"] == "no-store"
    twin = client.get("/data.json?lang=en")
    assert twin.status_code == 503 and twin.get_json()["error"]["code"] == 503

    relay.start()
    assert client.get("/data").status_code == 200                        # no restart needed
    assert client.get("/api/v1/releases").status_code == 200


def test_a_sqlite_file_moved_away_and_back(tmp_path):
    """SQLite opens a missing file as a new, empty database: the portal answers 503 while its tables
    are missing and serves again once the file is back, with no connection kept to the empty one."""
    database = tmp_path / "congkhai.db"
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{database}"})
    with app.app_context():
        upgrade(db.engine)  # the migrations, as production's database gets them
        db.engine.dispose()
    client = app.test_client()
    database.rename(tmp_path / "away.db")
    response = client.get("/api/v1/releases")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "unavailable"
    assert client.get("/data").status_code == 503
    (tmp_path / "away.db").replace(database)
    assert client.get("/api/v1/releases").status_code == 200
    assert client.get("/data").status_code == 200
