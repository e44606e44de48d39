"""CONGKHAI_LOG_FORMAT=json: one JSON line per request, with the release the portal was serving."""
import json

from portal import create_app


def test_one_json_line_per_request(published, capsys):
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"],
                      "CONGKHAI_LOG_FORMAT": "json"})
    client = app.test_client()
    capsys.readouterr()
    assert client.get("/api/v1/releases").status_code == 200
    assert client.get("/search?q=dien+tu+%C4%91ong+a").status_code == 200
    assert client.get("/employers/0000000000").status_code == 404
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    requests = [line for line in lines if line.get("event") == "request"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/api/v1/releases", 200), ("GET", "/search", 200), ("GET", "/employers/0000000000", 404)]
    assert {r["release_id"] for r in requests} == {"2026-11-25"}
    assert all(isinstance(r["duration_ms"], float) and r["duration_ms"] >= 0 for r in requests)
    assert all(r["logger"] == "congkhai.portal.requests" and r["level"] == "info" for r in requests)
    assert "dien" not in json.dumps(requests)  # the query string (people's names) stays out of the log


def test_text_format_logs_no_request_lines(app, client, capsys):
    capsys.readouterr()
    assert client.get("/api/v1/releases").status_code == 200
    assert capsys.readouterr().err == ""
