"""The public portal: search, employer pages, lists, releases and open data, in Vietnamese first.

`create_app()` follows Flask's tutorial factory: defaults from the shared settings, then the mapping
passed in (tests pass a temporary data directory and database). Views are thin: every read goes
through the core's Register (`congkhai.register`, on the request's session by `portal.current`),
and every page is one dict rendered as HTML, JSON, CSV or Atom.
"""
from __future__ import annotations

from flask import Flask

from congkhai.config import REPO_ROOT, SETTINGS, load_settings

from .database import db, read_sqlite_through_mmap

SETTING_NAMES = {setting.name for setting in SETTINGS}


class ConfigurationError(RuntimeError):
    """The portal refuses to start with a configuration that is unsafe in production."""


def create_app(config: dict | None = None) -> Flask:
    from .responses import Portal

    app = Portal(__name__, template_folder=str(REPO_ROOT / "templates"), static_folder=str(REPO_ROOT / "static"))
    config = dict(config or {})
    settings = {name: config.pop(name) for name in list(config) if name in SETTING_NAMES}
    app.config.from_mapping(load_settings(**settings))  # derives paths from an overridden data dir
    app.config.from_mapping(config)
    if app.testing and "CONGKHAI_WARM_ON_SWITCH" not in settings:
        app.config["CONGKHAI_WARM_ON_SWITCH"] = 0  # tests switch releases and read the new one at once
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "vi")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")
    if not (app.debug or app.testing or app.config.get("SECRET_KEY")):
        raise ConfigurationError("SECRET_KEY is not set: the portal does not start in production without one")

    from . import guards, i18n, rendering
    statement_ms = int(app.config["CONGKHAI_STATEMENT_TIMEOUT_MS"] or 0)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", guards.engine_options(app.config["DATABASE_URL"], statement_ms))
    db.init_app(app)
    with app.app_context():
        read_sqlite_through_mmap(db.engine)
        guards.bound_sqlite_statements(db.engine, statement_ms)

    from . import logging
    i18n.init_app(app)
    rendering.init_app(app)
    guards.init_app(app)  # request bounds, 503 when the database is unreachable
    logging.init_app(app)

    from . import api, cache, data, disputes, eligibility, employers, health, inspections, lists, ratelimits
    from . import results, search
    for blueprint in (search.bp, employers.bp, lists.bp, data.bp, eligibility.bp, results.bp, inspections.bp,
                      api.bp, disputes.bp, health.bp):
        app.register_blueprint(blueprint)
    api.init_app(app)  # JSON errors under /api/, rate limits (after the blueprints: batch views are wrapped)
    ratelimits.limit_disputes(app, "disputes.submit", ("disputes.lookup", "disputes.status"))
    cache.init_app(app)
    # A request meets the proxies' fix first (every part sees the client's address), then the cache's
    # shortcut, then Flask.
    app.wsgi_app = guards.behind_proxies(app, cache.HitShortcut(app, app.wsgi_app))
    return app
