"""The right of reply in the portal: the employer's form and its defences, the confirmation and
status look-up (page and JSON), and the "disputed by the employer" mark on the page, in the JSON
twin and in the API. Each test writes disputes into its own copy of the published register."""
import time
from types import SimpleNamespace

import pytest

from congkhai.config import Paths
from congkhai.disputes import list_disputes
from portal.database import db
from portal import create_app
from tests.registers import writable_copy

from .conftest import BIEN_HOA, FORMULA, HA_THANH, HOUSEHOLD, html, soup
from .test_lists import read_csv
from .test_pages import test_every_page_is_vietnamese_semantic_html as check_page

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
LIMIT = 4000  # attachment bytes in these tests
REASON = "Đơn vị đã nộp đủ tiền nợ BHXH ngày 12/11/2026 theo ủy nhiệm chi số 45, danh sách vẫn ghi còn nợ."


@pytest.fixture
def app(published, tmp_path):
    data_dir = writable_copy(published, tmp_path)["CONGKHAI_DATA_DIR"]
    return create_app({"TESTING": True, "SECRET_KEY": "test secret", "CONGKHAI_DATA_DIR": data_dir,
                       "CONGKHAI_BASE_URL": "https://congkhai.example.vn",
                       "CONGKHAI_DISPUTE_MAX_ATTACHMENT_BYTES": LIMIT, "CONGKHAI_DISPUTE_RATE_LIMIT": "4 per hour"})


def stored(app):
    with app.app_context():
        return list_disputes(db.session)


def open_form(client, monkeypatch, key=HA_THANH, age=30):
    """The form as shown `age` seconds ago (the token's timestamp is the time it was signed)."""
    import itsdangerous.timed

    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: time.time() - age))
    try:
        page = soup(client.get(f"/employers/{key}/dispute"))
    finally:
        monkeypatch.undo()
    return page.select_one("input[name=token]")["value"]


def send(client, monkeypatch, key=HA_THANH, age=30, attachment=None, address="127.0.0.1", **fields):
    form = {"token": open_form(client, monkeypatch, key, age), "tax_code": key, "contact_name": "Nguyễn Thị Đào",
            "contact": "0912 345 678", "reason": REASON, "website": "", **fields}
    if attachment is not None:
        form["attachment"] = attachment
    return client.post(f"/employers/{key}/dispute", data=form, content_type="multipart/form-data",
                       environ_base={"REMOTE_ADDR": address})


def test_a_dispute_is_stored_confirmed_and_looked_up(app, client, monkeypatch):
    import io

    response = send(client, monkeypatch, tax_code=HA_THANH[:4] + " " + HA_THANH[4:], attachment=(io.BytesIO(PDF), "uynhiemchi.pdf"))
    assert response.status_code == 303
    [dispute] = stored(app)
    reference = dispute["reference"]
    assert response.headers["Location"].startswith(f"/disputes/{reference}?")
    page = soup(client.get(response.headers["Location"]))
    assert page.select_one(".reference").text == reference and "Đang xem xét" in page.select_one(".dispute-status").text
    assert page.select_one("[role=status]")
    assert dispute["attachment_type"] == "application/pdf"
    assert (Paths(app.config["CONGKHAI_DATA_DIR"]).disputes / reference / "attachment.pdf").read_bytes() == PDF
    answer = client.get(f"/disputes/{reference.lower()}.json?tax_code={HA_THANH}").get_json()
    assert answer["dispute"]["status"] == "open" and answer["dispute"]["reference"] == reference
    text = str(answer)
    assert "0912" not in text and "Nguyễn Thị Đào" not in text and "ủy nhiệm chi" not in text
    assert client.get(f"/disputes/{reference}.json?tax_code={BIEN_HOA}").status_code == 404
    assert client.get(f"/disputes/{reference}?tax_code=").status_code == 400
    lookup = client.get(f"/disputes?reference={reference.replace('-', ' ')}&tax_code={HA_THANH}")
    assert lookup.status_code == 302 and lookup.headers["Location"].startswith(f"/disputes/{reference}")
    assert client.get(f"/data/disputes/{reference}/attachment.pdf").status_code == 404  # never served


def test_the_mark_shows_on_the_page_its_json_and_the_api_at_once(app, client, monkeypatch):
    assert not soup(client.get(f"/employers/{HA_THANH}")).select(".disputed")
    assert send(client, monkeypatch).status_code == 303
    [dispute] = stored(app)
    mark = soup(client.get(f"/employers/{HA_THANH}")).select_one(".disputed")
    assert "Đơn vị khiếu nại từ" in mark.text and dispute["opened_on"].strftime("%d/%m/%Y") in mark.text
    assert client.get(f"/employers/{HA_THANH}.json").get_json()["disputed_since"] == dispute["opened_on"].isoformat()
    assert client.get(f"/api/v1/employers/{HA_THANH}").get_json()["disputed_since"] == dispute["opened_on"].isoformat()
    assert client.get(f"/api/v1/employers/{BIEN_HOA}").get_json()["disputed_since"] is None
    page = client.get(f"/employers/{HA_THANH}").get_data(as_text=True)
    assert "0912" not in page and "Nguyễn Thị Đào" not in page and "ủy nhiệm chi" not in page
    rows = client.get("/lists/offenders.json").get_json()["rows"]
    assert {row["key"]: row["disputed_since"] for row in rows if row["disputed_since"]} == {
        HA_THANH: dispute["opened_on"].isoformat()}
    for url in ("/lists/offenders", "/search?q=Hà Thành"):
        [result] = [r for r in soup(client.get(url)).select(".result") if r.select_one(".disputed")]
        assert HA_THANH in result.text and "Đơn vị khiếu nại từ ngày" in result.text


def test_a_household_gives_its_unit_code(app, client, monkeypatch):
    assert send(client, monkeypatch, key=HOUSEHOLD, tax_code=HOUSEHOLD.lower()).status_code == 303
    assert [d["employer_key"] for d in stored(app)] == [HOUSEHOLD]


def test_another_employers_tax_code_is_refused(app, client, monkeypatch):
    response = send(client, monkeypatch, tax_code=BIEN_HOA)
    assert response.status_code == 400
    page = html(response)
    assert page.select_one("#tax_code")["aria-invalid"] == "true"
    assert "không phải mã số thuế của đơn vị này" in page.select_one("#tax_code-error").text
    assert page.select_one("#reason").text == REASON  # what was typed is kept
    assert stored(app) == []


def test_the_honeypot_and_a_robots_speed_are_refused(app, client, monkeypatch):
    assert send(client, monkeypatch, website="http://spam.example").status_code == 400
    response = send(client, monkeypatch, age=1)
    assert response.status_code == 400 and "quá nhanh" in html(response).select_one("[role=alert]").text
    assert stored(app) == []


def test_a_form_not_shown_by_this_site_is_refused(app, client, monkeypatch):
    token = open_form(client, monkeypatch)
    client.delete_cookie("congkhai_dispute", path=f"/employers/{HA_THANH}/dispute")
    form = {"token": token, "tax_code": HA_THANH, "contact_name": "An", "contact": "an@example.vn", "reason": REASON}
    assert client.post(f"/employers/{HA_THANH}/dispute", data=form).status_code == 400
    assert client.post(f"/employers/{BIEN_HOA}/dispute", data={**form, "tax_code": BIEN_HOA}).status_code == 400
    assert stored(app) == []


def test_attachments_too_big_or_of_the_wrong_type_are_refused(app, client, monkeypatch):
    import io

    response = send(client, monkeypatch, attachment=(io.BytesIO(PDF + b"0" * LIMIT), "big.pdf"))
    assert response.status_code == 400 and "lớn hơn" in html(response).select_one("#attachment-error").text
    response = send(client, monkeypatch, attachment=(io.BytesIO(b"<html>not a pdf</html>"), "fake.pdf"))
    assert response.status_code == 400 and "PDF, JPEG hoặc PNG" in html(response).select_one("#attachment-error").text
    response = send(client, monkeypatch, attachment=(io.BytesIO(b"0" * (LIMIT + 100_000)), "huge.pdf"))
    assert response.status_code == 413
    assert stored(app) == []


def test_no_html_is_kept(app, client, monkeypatch):
    reason = "<p>Đã nộp <b>đủ</b></p><script>alert(1)</script> &lt;img src=x onerror=alert(2)&gt;" + REASON
    assert send(client, monkeypatch, reason=reason, contact_name="<i>Đào</i>").status_code == 303
    [dispute] = stored(app)
    assert "<" not in dispute["reason"] and "alert(1)" not in dispute["reason"] and dispute["contact_name"] == "Đào"
    assert dispute["reason"].startswith("Đã nộp đủ")


def test_rate_limit_per_address_answers_429(app, client, monkeypatch):
    for _ in range(4):
        assert send(client, monkeypatch, tax_code="wrong").status_code == 400
    response = send(client, monkeypatch)
    assert response.status_code == 429 and "Quá nhiều" in html(response).text
    assert stored(app) == []


def test_rate_limit_per_employer_counts_every_address(app, client, monkeypatch):
    app.config["CONGKHAI_DISPUTE_EMPLOYER_RATE_LIMIT"] = "2 per day"
    assert send(client, monkeypatch, address="203.0.113.1", tax_code="wrong").status_code == 400
    assert send(client, monkeypatch, address="203.0.113.2", tax_code="wrong").status_code == 400
    assert send(client, monkeypatch, address="203.0.113.3").status_code == 429
    assert send(client, monkeypatch, key=BIEN_HOA, address="203.0.113.3").status_code == 303


def test_open_disputes_are_capped_per_employer(app, client, monkeypatch):
    app.config["CONGKHAI_DISPUTE_MAX_OPEN"] = 1
    assert send(client, monkeypatch).status_code == 303
    assert send(client, monkeypatch).status_code == 409
    assert len(stored(app)) == 1


def test_english_form(app, client):
    page = soup(client.get(f"/employers/{HA_THANH}/dispute?lang=en"))
    assert page.select_one("label[for=tax_code]").text == "Tax code of the employer"
    assert page.select_one("#website").find_parent(attrs={"aria-hidden": "true"})


def test_the_form_lookup_and_status_pages_pass_every_page_check(app, client, monkeypatch):
    assert send(client, monkeypatch).status_code == 303
    [dispute] = stored(app)
    for url in (f"/employers/{HA_THANH}/dispute", f"/employers/{HOUSEHOLD}/dispute", "/disputes",
                f"/disputes/{dispute['reference']}?tax_code={HA_THANH}"):
        check_page(client, url)


def test_without_a_secret_key_the_form_is_unavailable_not_unsafe(published):
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"]})
    assert app.test_client().get(f"/employers/{HA_THANH}/dispute").status_code == 503


def test_a_cached_page_shows_a_dispute_opened_by_another_worker(app, client, monkeypatch):
    """The page cache keys on the disputes' generation too, so a mark never waits for the next release."""
    from portal import current

    url = f"/employers/{BIEN_HOA}"
    assert client.get(url).headers["X-Cache"] == "miss"
    assert client.get(url).headers["X-Cache"] == "hit"
    other = app.test_client()  # another worker: this one's generation cache does not hear of it
    with app.app_context():
        generation = dict(app.extensions["congkhai.cache"])["disputes"]
    assert send(other, monkeypatch, key=BIEN_HOA).status_code == 303
    with app.app_context():
        app.extensions["congkhai.cache"]["disputes"] = generation  # as a worker that did not open it
    assert not soup(client.get(url)).select(".disputed")  # within CURRENT_RELEASE_SECONDS: still cached
    monkeypatch.setattr(current, "CURRENT_RELEASE_SECONDS", -1)
    response = client.get(url)
    assert response.headers["X-Cache"] == "miss" and soup(response).select_one(".disputed")


def test_dispute_form_file_input_fits_a_360px_screen(client):
    """Chromium drew the dispute form's file input wider than a phone, scrolling the page sideways."""
    import re
    from pathlib import Path

    assert soup(client.get(f"/employers/{HA_THANH}/dispute")).select("input[type=file]")
    css = (Path(__file__).parents[2] / "static" / "portal.css").read_text(encoding="utf-8")
    assert re.search(r"input\[type=file\][^{]*\{[^}]*max-width:\s*100%", css)


@pytest.mark.parametrize("url", [f"/employers/{HOUSEHOLD}/dispute", "/disputes"])
def test_tax_code_field_lets_a_phone_type_unit_codes_and_branch_dashes(client, url):
    """inputmode=numeric gave phones a digit pad: no letters for a household's unit code, no '-' of a branch."""
    field = soup(client.get(url)).select_one("input#tax_code")
    assert field is not None and field.get("inputmode") in (None, "text")


def test_every_download_of_a_view_and_the_api_rows_carry_the_mark(app, client, monkeypatch):
    """Issue 10: "in pages, files and API", also the CSV of a list and the API's search and inspection rows."""
    assert send(client, monkeypatch, key=BIEN_HOA).status_code == 303
    [dispute] = stored(app)
    since = dispute["opened_on"].isoformat()
    for url in ("/lists/offenders.csv", "/lists/changes.csv", "/inspections.csv"):
        marks = {row["Mã định danh"]: row["Đơn vị khiếu nại từ ngày"] for row in read_csv(client.get(url))}
        assert marks[BIEN_HOA] == since and set(marks.values()) == {since, ""} and len(marks) > 1, url
    hits = client.get("/api/v1/employers?status=delinquent").get_json()["results"]
    assert {hit["key"]: hit["disputed_since"] for hit in hits} == {BIEN_HOA: since, HA_THANH: None, FORMULA: None}
    due = client.get("/api/v1/inspections").get_json()["results"]
    assert [row["disputed_since"] for row in due if row["key"] == BIEN_HOA] == [since]
    page = client.get("/search.json?status=delinquent").get_json()["results"]
    assert {row["key"]: row["disputed_since"] for row in page if row["disputed_since"]} == {BIEN_HOA: since}


def test_a_cached_list_page_shows_a_dispute_at_once(app, client, monkeypatch):
    """The list pages are cached per release; opening a dispute changes the disputes' generation, so the
    next answer is a fresh page with the mark, not the cached one without it."""
    url = "/lists/offenders"
    assert client.get(url).headers["X-Cache"] == "miss"
    cached = client.get(url)
    assert cached.headers["X-Cache"] == "hit" and not soup(cached).select(".disputed")
    assert send(client, monkeypatch).status_code == 303
    response = client.get(url)
    assert response.headers["X-Cache"] == "miss"
    [result] = [r for r in soup(response).select(".result") if r.select_one(".disputed")]
    assert HA_THANH in result.text
