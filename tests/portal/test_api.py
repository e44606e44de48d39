"""The JSON API: answers, every error path with its stable JSON shape, release ids, CORS, caching
and rate limits (in memory, and in Redis where one runs: always in CI)."""
import os
import time
import uuid
from datetime import timedelta

import pytest

from congkhai.receipts import MAX_DOCUMENT_BYTES
from portal import openapi
from tests.portal.eligibility_register import (DAY_1, DAY_2, DAY_3, DECISION, DELINQUENT, EVADER, HOUSEHOLD_UNIT,  # noqa: F401
                                               PERSONAL_NUMBER, TODAY, app, make_app, register)

REDIS_URL = os.environ.get("CONGKHAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LATEST = DAY_3.isoformat()

UNKNOWN_PERSONAL_NUMBER = "079999999999"  # no household has it: a 404 that must not repeat it


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "release_id"} and set(body["error"]) == {"code", "status", "message"}
    assert body["error"]["code"] == code and body["error"]["status"] == status and body["error"]["message"]
    assert response.headers["X-Release-Id"] == body["release_id"]
    return body["error"]


def test_search_uses_the_portal_query_language(client):
    response = client.get("/api/v1/employers?q=xay lap dong do&status=compliant")
    body = response.get_json()
    assert body["release_id"] == LATEST == response.headers["X-Release-Id"]
    assert [hit["key"] for hit in body["results"]] == [EVADER]
    assert body["results"][0]["links"]["api"] == f"/api/v1/employers/{EVADER}"
    assert {"value": "compliant", "count": 1} in body["facets"]["status"]
    past = client.get(f"/api/v1/employers?q=xay lap dong do&as_of={DAY_2}").get_json()
    assert past["release_id"] == DAY_2.isoformat() and past["results"][0]["status"] == "evading"


def test_employer_with_history_by_tax_code_or_unit_code(client):
    body = client.get(f"/api/v1/employers/{EVADER[:4]}-{EVADER[4:]}").get_json()
    assert body["employer"]["name"] == "Công ty TNHH Xây lắp Đông Đô"
    assert [(h["valid_from"], h["status"]) for h in body["history"]] == [
        (DAY_1.isoformat(), "compliant"), (DAY_2.isoformat(), "evading"), (DAY_3.isoformat(), "compliant")]
    assert body["history"][1]["evasion_decision"] == DECISION and body["history"][1]["valid_to"] == LATEST
    assert body["eligibility"] == {"eligible": True, "reason": "eligible", "rule": "evasion_in_force"}
    during = client.get(f"/api/v1/employers/{EVADER}?as_of={DAY_2 + timedelta(days=1)}").get_json()
    assert during["eligibility"]["eligible"] is False and during["release_id"] == DAY_2.isoformat()
    household = client.get(f"/api/v1/employers/{HOUSEHOLD_UNIT}")
    assert household.get_json()["employer"]["personal_id_masked"] == "079*******89"
    assert PERSONAL_NUMBER not in household.get_data(as_text=True)


def test_releases_and_one_release(client):
    listed = client.get("/api/v1/releases").get_json()
    assert [r["id"] for r in listed["releases"]] == [LATEST, DAY_2.isoformat(), DAY_1.isoformat()]
    one = client.get(f"/api/v1/releases/{DAY_2}").get_json()
    assert one["release_id"] == DAY_2.isoformat() and one["release"]["policy"]["eligibility_rule"] == "evasion_in_force"
    assert one["signed"] and any(f["name"] == "datapackage.json" for f in one["files"])
    assert len(one["release"]["datapackage_sha256"]) == 64


@pytest.mark.parametrize("day, eligible, release", [
    (DAY_1, True, DAY_1), (DAY_2, False, DAY_2), (DAY_2 + timedelta(days=4), False, DAY_2), (DAY_3, True, DAY_3),
    (TODAY + timedelta(days=30), True, DAY_3),
])
def test_single_check_returns_a_receipt_from_the_release_in_force(client, day, eligible, release):
    response = client.get(f"/api/v1/eligibility?code={EVADER}&date={day}")
    body = response.get_json()
    assert body["receipt"]["answers"][0]["eligible"] is eligible
    assert body["release_id"] == release.isoformat() == response.headers["X-Release-Id"]
    assert body["receipt"]["release"]["id"] == release.isoformat()
    basis = body["receipt"]["date_basis"]
    assert basis == ("future" if day > TODAY else "release_day" if day == release else "between_releases")
    assert client.post("/api/v1/verify", json=body).get_json()["authentic"] is True


def test_batch_check_answers_every_row(client):
    codes = [EVADER, "0100233489", EVADER, "0100233488", PERSONAL_NUMBER, 100000042, DELINQUENT]
    response = client.post("/api/v1/eligibility", json={"codes": codes, "date": DAY_2.isoformat()})
    receipt = response.get_json()["receipt"]
    assert [(a["row"], a["outcome"], a["eligible"]) for a in receipt["answers"]] == [
        (1, "found", False), (2, "malformed", None), (3, "duplicate", None), (4, "unknown", None),
        (5, "found", True), (6, "found", True), (7, "duplicate", None)]
    assert receipt["answers"][1]["problem"] == "check_digit"
    assert receipt["question"]["codes"][4] == "079*******89"
    assert PERSONAL_NUMBER not in response.get_data(as_text=True)
    assert "Access-Control-Allow-Origin" not in response.headers          # CORS is open for GET only
    stored = client.get(response.get_json()["links"]["api"])
    assert stored.get_json()["receipt"] == receipt and "immutable" in stored.headers["Cache-Control"]


def test_the_receipt_in_an_answer_is_the_signed_bytes_verbatim(client, app):
    """An auditor can check the signature over the bytes the API sent, without re-serialising, and
    asking again answers the same receipt with the same bytes (it is written from the stored form)."""
    from congkhai.models import Receipt
    from portal.database import db
    from congkhai.signing import public_key_path, verify_signature

    question = {"codes": [EVADER, "Đ0100233489", DELINQUENT], "date": DAY_2.isoformat()}
    first, again = (client.post("/api/v1/eligibility", json=question) for _ in range(2))
    text = first.get_data(as_text=True)
    assert again.get_data(as_text=True) == text and first.mimetype == "application/json"
    body = first.get_json()
    start = text.index('"receipt":') + len('"receipt":')
    signed = text[start:text.index(',"release_id":', start)].encode("utf-8")
    with app.app_context():
        assert db.session.get(Receipt, body["receipt"]["id"]).body.encode("utf-8") == signed
    pem = public_key_path(app.config["CONGKHAI_SIGNING_KEY"]).read_text(encoding="ascii")
    assert verify_signature(pem, signed, body["signature"]["value"])
    assert body["signature"]["public_key_id"] == body["receipt"]["public_key_id"]
    assert body["release_id"] == body["receipt"]["release"]["id"] == first.headers["X-Release-Id"]
    assert "Đ0100233489" in signed.decode("utf-8")   # non-ASCII as UTF-8, not re-escaped as \u0110


@pytest.mark.parametrize("method, url, kwargs, status, code", [
    ("get", "/api/v1/employers?page=abc", {}, 400, "bad_request"),
    ("get", "/api/v1/employers?status=bankrupt", {}, 400, "bad_request"),
    ("get", "/api/v1/employers?q=" + "x" * 500, {}, 400, "bad_request"),
    ("get", f"/api/v1/employers?as_of={TODAY + timedelta(days=9)}", {}, 400, "bad_request"),
    ("get", "/api/v1/employers?as_of=yesterday", {}, 400, "bad_request"),
    ("get", "/api/v1/eligibility", {}, 400, "bad_request"),
    ("get", f"/api/v1/eligibility?code={EVADER}&code={DELINQUENT}", {}, 400, "bad_request"),
    ("get", f"/api/v1/eligibility?code={EVADER}&date=2026-02-30", {}, 400, "bad_request"),
    ("post", "/api/v1/eligibility", {"data": "codes=1", "content_type": "text/plain"}, 400, "bad_request"),
    ("post", "/api/v1/eligibility", {"json": {"codes": "0100233488"}}, 400, "bad_request"),
    ("post", "/api/v1/eligibility", {"json": {"codes": [["0100233488"]]}}, 400, "bad_request"),
    ("post", "/api/v1/eligibility", {"json": {"codes": []}}, 400, "bad_request"),
    ("post", "/api/v1/eligibility", {"json": {"codes": [EVADER], "date": 20261125}}, 400, "bad_request"),
    ("post", "/api/v1/verify", {"data": "{", "content_type": "application/json"}, 400, "bad_request"),
    ("get", "/api/v1/employers/0100233488", {}, 404, "not_found"),
    ("get", f"/api/v1/employers/{UNKNOWN_PERSONAL_NUMBER}", {}, 404, "not_found"),
    ("get", "/api/v1/releases/2020-01-01", {}, 404, "not_found"),
    ("get", "/api/v1/releases/not-a-date", {}, 404, "not_found"),
    ("get", "/api/v1/receipts/0123456789abcdef0123456789abcdef", {}, 404, "not_found"),
    ("get", "/api/v1/receipts?code=ZZZZZ-ZZZZZ", {}, 404, "not_found"),
    ("get", "/api/v1/receipts?code=123", {}, 400, "bad_request"),
    ("get", "/api/v1/receipts?code=UUUUU-UUUUU", {}, 400, "bad_request"),
    ("get", "/api/v1/receipts", {}, 400, "bad_request"),
    ("get", "/api/v1/nowhere", {}, 404, "not_found"),
    ("get", f"/api/v1/eligibility?code={EVADER}&date={DAY_1 - timedelta(days=1)}", {}, 404, "not_found"),
    ("get", f"/api/v1/employers/{EVADER}?as_of={DAY_1 - timedelta(days=1)}", {}, 404, "not_found"),
    ("delete", "/api/v1/releases", {}, 405, "method_not_allowed"),
    ("put", "/api/v1/eligibility", {"json": {}}, 405, "method_not_allowed"),
    ("post", "/api/v1/employers", {"json": {}}, 405, "method_not_allowed"),
    ("get", "/api/v1/verify", {}, 405, "method_not_allowed"),
    ("post", "/api/v1/eligibility", {"json": {"codes": ["0100233488"] * 1001}}, 413, "batch_too_large"),
    ("post", "/api/v1/verify", {"data": "x" * (MAX_DOCUMENT_BYTES + 1), "content_type": "application/json"}, 413,
     "batch_too_large"),
])
def test_every_error_path_has_a_stable_json_shape(client, method, url, kwargs, status, code):
    error = error_of(getattr(client, method)(url, **kwargs), status, code)
    assert PERSONAL_NUMBER not in error["message"] and UNKNOWN_PERSONAL_NUMBER not in error["message"]


def test_405_names_the_allowed_methods(client):
    response = client.delete("/api/v1/releases")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_before_the_first_release_says_so_in_json(register):
    client = make_app(register).test_client()
    error = error_of(client.get(f"/api/v1/eligibility?code={EVADER}&date={DAY_1 - timedelta(days=40)}"),
                     404, "not_found")
    assert f"{DAY_1:%d/%m/%Y}" in error["message"]  # the Vietnamese date form


@pytest.mark.parametrize("url", ["/api/v1/employers?q=dong", f"/api/v1/employers/{EVADER}", "/api/v1/releases",
                                 f"/api/v1/releases/{DAY_2}", f"/api/v1/eligibility?code={EVADER}&date={DAY_2}",
                                 "/api/v1/openapi.json", "/api/v1/"])
def test_get_answers_carry_etag_cache_control_cors_and_release(client, url):
    response = client.get(url)
    assert response.status_code == 200
    etag = response.headers["ETag"]
    release_id = response.headers["X-Release-Id"]
    assert release_id in etag and "max-age" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Release-Id" in response.headers["Access-Control-Expose-Headers"]
    if response.mimetype == "application/json":
        body = response.get_json()
        assert body.get("release_id", body.get("x-release-id")) == release_id
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_cors_preflight_for_get(client):
    response = client.options("/api/v1/releases", headers={"Origin": "https://mua-sam.example.vn",
                                                            "Access-Control-Request-Method": "GET"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


def test_every_response_names_the_release_even_errors(client):
    for response in (client.get("/api/v1/nowhere"), client.delete("/api/v1/releases"),
                     client.post("/api/v1/verify", json={"receipt": {}, "signature": {}})):
        assert response.headers["X-Release-Id"] == LATEST == response.get_json()["release_id"]


def test_rate_limits_answer_429_in_json(register):
    app = make_app(register, CONGKHAI_API_RATE_LIMIT="3 per minute", CONGKHAI_BATCH_RATE_LIMIT="2 per minute")
    client = app.test_client()
    assert [client.get("/api/v1/releases").status_code for _ in range(3)] == [200] * 3
    error = error_of(client.get("/api/v1/releases"), 429, "rate_limited")
    assert "3 per 1 minute" in error["message"]
    other_client = client.get("/api/v1/releases", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_client.status_code == 200                                # limits are per client


def test_batch_checks_share_a_tighter_limit_across_the_page_and_the_api(register):
    app = make_app(register, CONGKHAI_BATCH_RATE_LIMIT="2 per minute")
    client = app.test_client()
    assert client.post("/api/v1/eligibility", json={"codes": [EVADER]}).status_code == 200
    assert client.post("/eligibility", data={"codes": EVADER}).status_code == 200
    error_of(client.post("/api/v1/eligibility", json={"codes": [EVADER]}), 429, "rate_limited")
    page = client.post("/eligibility", data={"codes": EVADER})
    assert page.status_code == 429 and "Retry-After" in page.headers and "<h1>" in page.get_data(as_text=True)
    assert client.get(f"/api/v1/eligibility?code={EVADER}").status_code == 200  # single checks are not batches


def test_a_typed_verification_code_finds_the_receipt_as_its_id_does(client):
    issued = client.post("/api/v1/eligibility", json={"codes": [DELINQUENT], "date": str(DAY_2)}).get_json()
    code = issued["receipt"]["verification_code"]
    by_id = client.get(f"/api/v1/receipts/{issued['receipt']['id']}").get_json()
    response = client.get("/api/v1/receipts", query_string={"code": code.lower().replace("-", " ")})
    assert response.status_code == 200 and response.get_json()["receipts"] == [by_id]
    assert response.get_json()["release_id"] == LATEST == response.headers["X-Release-Id"]
    assert client.post("/api/v1/verify", json=by_id).get_json()["on_file"] is True


def test_verification_codes_cannot_be_enumerated_past_the_api_rate_limit(register):
    """Ten characters are 50 bits; at the API's per-client limit guessing them is hopeless, and a
    cached answer counts as much as a fresh one."""
    client = make_app(register, CONGKHAI_API_RATE_LIMIT="4 per minute").test_client()
    issued = client.post("/api/v1/eligibility", json={"codes": [EVADER], "date": str(DAY_2)}).get_json()
    code = issued["receipt"]["verification_code"]
    unused = "ZZZZZ-ZZZZZ"  # no test stores a receipt whose id starts with 12 f's (one does with 0's)
    answers = [client.get(f"/api/v1/receipts?code={guess}") for guess in (code, unused, code)]
    assert [a.status_code for a in answers] == [200, 404, 200] and answers[2].headers["X-Cache"] == "hit"
    error_of(client.get("/api/v1/receipts?code=00000-00001"), 429, "rate_limited")
    error_of(client.get(f"/api/v1/receipts?code={code}"), 429, "rate_limited")
    assert client.get(f"/api/v1/receipts?code={code}", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        reason = f"Redis not reachable at {REDIS_URL}: {error.__class__.__name__}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run the Redis rate-limit test)")
        pytest.skip(reason)
    return redis.Redis.from_url(REDIS_URL)


def test_rate_limits_are_kept_in_redis_when_redis_url_is_set(register):
    server = redis_or_skip()
    prefix = f"congkhai-test-{uuid.uuid4().hex[:8]}"
    config = {"REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix, "CONGKHAI_API_RATE_LIMIT": "2 per minute"}
    first, second = make_app(register, **config), make_app(register, **config)   # two workers, one storage
    try:
        assert type(first.extensions["congkhai.limiter"].storage).__name__ == "RecallingRedisStorage"
        assert first.test_client().get("/api/v1/releases").status_code == 200
        assert second.test_client().get("/api/v1/releases").status_code == 200
        error_of(first.test_client().get("/api/v1/releases"), 429, "rate_limited")
        assert list(server.scan_iter(match=f"*{prefix}*"))
    finally:
        for key in server.scan_iter(match=f"*{prefix}*"):
            server.delete(key)


def test_redis_limits_headers_come_from_the_increment_without_more_round_trips(register):
    """X-RateLimit-* as a fresh read would give them, with the count and reset the increment itself
    returned: one Redis call for the limit per request, not three."""
    server = redis_or_skip()
    prefix = f"congkhai-test-{uuid.uuid4().hex[:8]}"
    config = {"REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix, "CONGKHAI_API_RATE_LIMIT": "5 per minute"}
    app = make_app(register, **config)
    client = app.test_client()

    def calls(command: str) -> int:
        return int(server.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))

    try:
        before = {command: calls(command) for command in ("ttl", "get", "evalsha")}
        answers = [client.get(f"/api/v1/receipts?code=ABCDE-{n:05d}") for n in range(4)]
        assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1"]
        assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"5"}
        resets = [int(a.headers["X-RateLimit-Reset"]) for a in answers]
        assert max(resets) - min(resets) <= 1 and 0 < resets[0] - time.time() <= 61
        assert calls("ttl") == before["ttl"]  # (other clients of this Redis may add gets and evalshas)
        stored = [key for key in server.scan_iter(match=f"*{prefix}*")]
        assert len(stored) == 1 and int(server.get(stored[0])) == 4
        client.get("/api/v1/receipts?code=ABCDE-00009")
        error_of(client.get("/api/v1/receipts?code=ABCDE-00010"), 429, "rate_limited")
    finally:
        for key in server.scan_iter(match=f"*{prefix}*"):
            server.delete(key)


@pytest.mark.redis
def test_a_batch_check_counts_against_two_limits_and_answers_both_from_its_increments(register):
    """A batch check is under the API's limit and the batch limit: two increments, and no read of
    either to answer its headers; the batch limit's in Redis at once, the API's at the next flush."""
    server = redis_or_skip()
    prefix = f"congkhai-test-{uuid.uuid4().hex[:8]}"
    app = make_app(register, REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix, CONGKHAI_BATCH_RATE_LIMIT="3 per minute")
    client = app.test_client()
    try:
        ttl_before = int(server.info("commandstats").get("cmdstat_ttl", {}).get("calls", 0))
        answers = [client.post("/api/v1/eligibility", json={"codes": ["0100109106"]}) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]  # the tighter one
        assert int(server.info("commandstats").get("cmdstat_ttl", {}).get("calls", 0)) == ttl_before
        def counts() -> list[tuple[str, int]]:  # (scope, count) of each limit counted in Redis
            return sorted((key.decode().rsplit("/", 4)[-4], int(server.get(key)))
                          for key in server.scan_iter(match=f"*{prefix}*"))

        assert counts() == [("batch", 3)]  # the API's generous limit is tallied in the worker (test_ratelimits)
        app.extensions["congkhai.limiter"].storage.flush()
        assert counts() == [("api", 3), ("batch", 3)]
        assert client.post("/api/v1/eligibility", json={"codes": ["0100109106"]}).status_code == 429
    finally:
        for key in server.scan_iter(match=f"*{prefix}*"):
            server.delete(key)


def test_memory_storage_without_redis(app):
    assert type(app.extensions["congkhai.limiter"].storage).__name__ == "MemoryStorage"


def test_openapi_document_describes_every_route_and_the_docs_page_renders_it(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}").replace("receipt_id", "id")
              .replace("date_text", "date") or "/"
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")}
    assert routes == set(document["paths"])
    page = client.get("/api/v1/").get_data(as_text=True)
    for path, methods in document["paths"].items():
        for method in methods:
            assert f"{method.upper()} /api/v1{path}".rstrip("/") in page
    for name in document["components"]["schemas"]:
        if document["components"]["schemas"][name].get("type") == "object":
            assert f'id="schema-{name}"' in page
    assert f'<p class="lead" lang="en">{document["info"]["summary"]}</p>' in page, "English parts of a Vietnamese page say so"
    assert client.get("/api").headers["Location"].endswith("/api/v1/")
    assert set(openapi.ERROR_CODES) >= {400, 404, 405, 413, 429}


def test_every_schema_reference_of_the_openapi_document_resolves(client):
    """The Results and Inspections schemas were lost once and nothing noticed: the fuzzer skips what it
    cannot resolve, so those answers went unchecked."""
    import json
    import re

    document = client.get("/api/v1/openapi.json").get_json()
    referenced = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(document)))
    assert {"Results", "Inspections", "SignedReceipt"} <= referenced
    assert sorted(referenced - set(document["components"]["schemas"])) == []


def test_blank_entries_do_not_count_towards_the_batch_limit(client):
    """The API and the form count codes alike: 1,000 codes padded with blanks are one full batch."""
    response = client.post("/api/v1/eligibility", json={"codes": [EVADER] * 1000 + ["", "  "], "date": LATEST})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
