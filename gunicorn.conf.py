"""Gunicorn settings for the portal (`gunicorn -c gunicorn.conf.py 'portal:create_app()'`), used by
`make serve` and the systemd unit in docs/. Every value can be overridden from the environment
(GUNICORN_*) or the command line, which wins over this file."""
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threads wait on the database, Redis and the disk; processes use the cores. 2 x cores + 1 is
# gunicorn's own advice, capped so a large machine does not open hundreds of database connections.
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 12))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)          # a worker silent this long is killed and replaced
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5                                    # behind nginx, which keeps its own upstream connections
# Load the app once before forking: workers share its memory (catalogues, templates, provinces)
# and a broken configuration stops the master at once instead of every worker in a loop.
preload_app = True
# Recycle workers now and then so that a slow leak in a library cannot grow for weeks. Rarely: a worker's
# memory is bounded by its caches (bench/worker_memory.py shows it level), and each restart throws away
# the search caches it built, which at 5,000 requests restarted every worker about every 20 s of a
# news-day peak. The jitter keeps them from all restarting at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 10_000)
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
# Who, method and path, answer, size, time in microseconds, the release current when it answered
# (X-Release-Id; an API answer about an earlier date names that one) and whether it came from the
# cache (X-Cache). The query string is left out, as in the portal's own log: searches carry names.
access_log_format = ('%(h)s "%(m)s %(U)s" %(s)s %(B)s %(D)sus release=%({x-release-id}o)s cache=%({x-cache}o)s '
                     '"%(f)s" "%(a)s"')
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 23+ opens a control socket in $HOME by default; several portals on one host would share
# its path, and systemd's ProtectHome forbids it. Signals (HUP, TERM, TTIN/TTOU) do the same work.
control_socket_disable = True


def when_ready(server):
    """In the master, before any worker is forked (the app is preloaded): open the current release's
    search index once, so that every worker starts with it open instead of opening its own copy on
    its first search. Workers open a newer release's index themselves when it appears."""
    from portal import search

    opened = search.warm(server.app.wsgi())
    if opened:
        server.log.info("search index of release %s opened before forking", opened)


def post_fork(server, worker):
    """Each worker opens its own database connections: none made before the fork may be shared."""
    from portal.database import db

    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
