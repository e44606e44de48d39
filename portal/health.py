"""Probes for load balancers and orchestrators: `/healthz` (the process answers) and `/readyz` (this
node can serve the register: database reachable, current release's files intact, its index opens).

Both answer JSON with 200 or 503 and say why; they are never cached (see portal.cache)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from congkhai import search as engine

from . import cache, current, release_files

bp = Blueprint("health", __name__)


def _answer(ok: bool, **details):
    response = jsonify({"status": "ok" if ok else "unavailable", **details})
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@cache.exempt
def healthz():
    """Liveness: no database, no files; only that this process answers."""
    return _answer(True)


def readiness() -> tuple[bool, dict]:
    """(ready, what was checked): the first failing check gives the reason."""
    checks = {}
    try:
        checks["database"] = current.database_reachable()
        release = current.fresh_release()
    except Exception as error:  # any driver or network error means "not ready", with its name
        return False, {"reason": f"database unreachable: {error.__class__.__name__}", "checks": {"database": False}}
    if release is None:
        return False, {"reason": "no release has been published yet", "checks": checks}
    details = {"release_id": release.id, "checks": checks}
    problems = release_files.release_problems(release.id)
    checks["release_files"] = not problems
    if problems:
        return False, {**details, "reason": f"release {release.id} does not verify: {problems[0]}",
                       "problems": problems[:10]}
    try:
        engine.open_index(release_files.search_index_dir(release.id))
    except Exception as error:  # a missing or unreadable index: not ready, with the error's name
        checks["search_index"] = False
        return False, {**details, "reason": f"search index of {release.id} cannot be opened: {error.__class__.__name__}"}
    checks["search_index"] = True
    return True, details


@bp.get("/readyz")
@cache.exempt
def readyz():
    ok, details = readiness()
    return _answer(ok, **details)


def wait_until_ready(url: str, seconds: float = 60, pause: float = 0.5) -> tuple[bool, str]:
    """Poll a node's /readyz until it answers 200 or the time is up: (ready, its last answer)."""
    import time
    import urllib.error
    import urllib.request

    deadline, last = time.monotonic() + seconds, "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return True, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:  # 503: up but not ready yet, say why
            last = error.read().decode("utf-8")
        except OSError as error:  # not listening yet
            last = f"no answer ({error.__class__.__name__})"
        time.sleep(pause)
    return False, last


if __name__ == "__main__":
    import sys

    ready, answer = wait_until_ready(sys.argv[1])
    print(answer.strip(), file=sys.stdout if ready else sys.stderr)
    sys.exit(0 if ready else 1)
