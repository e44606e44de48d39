"""The portal under gunicorn with the repository's gunicorn.conf.py, as `make serve` runs it: the
readiness wait, and an access log that names the release and the cache's answer but not the query."""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from congkhai.config import REPO_ROOT
from portal.health import wait_until_ready

from .conftest import DAY_2

PORT = 5130


@pytest.mark.slow
def test_gunicorn_conf_serves_and_logs_the_release(published, tmp_path):
    log = tmp_path / "access.log"
    env = {**os.environ, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "SECRET_KEY": "x" * 64,
           "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2", "GUNICORN_ACCESS_LOG": str(log), "REDIS_URL": ""}
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", str(REPO_ROOT / "gunicorn.conf.py"),
                               "--bind", f"127.0.0.1:{PORT}", "portal:create_app()"], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ready, answer = wait_until_ready(f"http://127.0.0.1:{PORT}/readyz", seconds=60)
        assert ready, answer
        for _ in range(2):
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/lists/offenders", timeout=10) as response:
                assert response.status == 200 and response.headers["X-Release-Id"] == DAY_2.isoformat()
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/search?q=nguyen+van+dien", timeout=10) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert f"search index of release {DAY_2.isoformat()} opened before forking" in server.stderr.read().decode()
    lines = log.read_text(encoding="utf-8").splitlines()
    pages = [line for line in lines if "GET /lists/offenders" in line]
    assert len(pages) == 2 and all(f"release={DAY_2.isoformat()}" in line for line in pages)
    # gthread workers may write the two lines in either order
    assert sorted(line.split(" cache=")[1].split()[0] for line in pages) == ["hit", "miss"], lines
    # the path is logged, the query string (people's names) is not
    searches = [line for line in lines if '"GET /search"' in line]
    assert len(searches) == 1 and "nguyen" not in log.read_text(encoding="utf-8"), lines


def test_warm_opens_the_current_releases_index_once_for_the_workers_to_share(app, empty_app):
    from congkhai.search import opening as engine
    from portal import release_files, search

    with app.app_context():
        path = release_files.search_index_dir(DAY_2.isoformat()).resolve()
    engine._OPEN.pop(path, None)  # earlier tests' searches may have opened it already
    assert search.warm(app) == DAY_2.isoformat()
    assert path in engine._OPEN
    assert search.warm(empty_app) is None  # before the first release there is nothing to open
