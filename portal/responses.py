"""How every answer is made, in one order that no registration can change.

`Portal` is Flask with its three steps spelled out. Before the view: `begin` (a new rate-limit
count, the log's clock, the reader's language, the bounds every request keeps), then Flask's own
before-request hooks (the rate limiter's check, the blueprints' body limits). Then the view, or the
page cache's stored answer (`cache.lookup`), which therefore has always been counted against the
limits. After it: Flask's after-request hooks (flask-limiter's bookkeeping), then `finish`, in the
order below. The cache's WSGI shortcut (`cache.HitShortcut`) answers hits with the same
`conventions.every_answer`, rate-limit count and validators.
"""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import refresh as choose_language_again

from . import cache, conventions, guards, i18n, logging, parameters, ratelimits


class Portal(Flask):
    def preprocess_request(self):
        begin()
        return super().preprocess_request()

    def dispatch_request(self):
        hit = cache.lookup()
        return hit if hit is not None else super().dispatch_request()

    def process_response(self, response):
        return finish(super().process_response(response))


def begin() -> None:
    """Before any check that may refuse the request (each raises its own 400, 404 or 413)."""
    ratelimits.new_request()
    logging.started()
    choose_language_again()  # flask-babel keeps the locale on `g`, which a pushed app context shares
    guards.refuse_control_characters()
    conventions.limit_json_size()
    use_canonical_parameters()


def use_canonical_parameters() -> None:
    """A cached view sees its parameters in their canonical form (portal/parameters.py), the one the
    page cache keys on: what it does not read is dropped, so its links do not carry it on either."""
    if request.method in ("GET", "HEAD"):
        found = parameters.canonical(request.endpoint, request.args)
        if found is not None:
            request.args = parameters.declared(request.endpoint, found) if current_app.testing else found


def finish(response):
    """Last of every answer Flask makes, views' and errors' alike: the cache stores the answer
    before anything that depends on the client (the language cookie, its rate-limit count) is added."""
    conventions.name_release(response)
    response = cache.store_and_validate(response)
    i18n.remember_language(response)
    ratelimits.limit_headers(response)
    conventions.ask_to_wait(response)
    conventions.every_answer(response, request.path, request.method, request.is_secure)
    logging.log_response(response)
    return response
