"""Receipts in the portal: stored once and never changed, printable with a QR code of their
verification link, and checked by /verify against tampering and foreign keys."""
import io
import json
from pathlib import Path

import qrcode
import qrcode.image.svg
import pytest
from sqlalchemy import create_engine, text

from congkhai.receipts import sign_receipt
from congkhai.signing import generate_key
from tests.portal.conftest import soup
from tests.portal.eligibility_register import (DAY_2, DAY_3, DELINQUENT, EVADER, PERSONAL_NUMBER, app,  # noqa: F401
                                               make_app, register)

STATIC = Path(__file__).resolve().parents[2] / "static"


def issue(client, codes, day=DAY_2) -> dict:
    response = client.post("/api/v1/eligibility", json={"codes": codes, "date": str(day)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def stored_row(register, receipt_id):
    engine = create_engine(register["DATABASE_URL"])
    with engine.connect() as conn:
        row = conn.execute(text("SELECT body, signature, release_id FROM receipts WHERE id = :id"),
                           {"id": receipt_id}).one()
    engine.dispose()
    return row


def test_the_same_question_of_the_same_release_is_the_same_stored_receipt(client, register):
    first = issue(client, [EVADER, "bad"])
    again = issue(client, [EVADER, "bad"])
    assert again["receipt"] == first["receipt"] and again["signature"] == first["signature"]
    body, signature, release_id = stored_row(register, first["receipt"]["id"])
    assert json.loads(body) == first["receipt"] and signature == first["signature"]["value"]
    assert release_id == DAY_2.isoformat()
    assert issue(client, [EVADER, "bad"], DAY_3)["receipt"]["id"] != first["receipt"]["id"]


def test_a_receipt_another_worker_stored_meanwhile_is_returned_never_replaced(app, client):
    """Two workers answering the same question at the same moment: the second INSERT loses, and the
    receipt returned, as every later lookup, is the first one, as it was stored."""
    from datetime import datetime, timezone

    from portal import current

    first = issue(client, [DELINQUENT])
    receipt_id = first["receipt"]["id"]
    with app.app_context():
        kept = current.register().receipt(receipt_id)
        again = current.store_receipt(receipt_id, datetime(2030, 1, 1, tzinfo=timezone.utc), kept.release_id,
                                      b'{"other": "body"}', "another signature")
        assert (again.body, again.signature, again.created_at) == (kept.body, kept.signature, kept.created_at)
        assert json.loads(again.body) == first["receipt"]
        fresh = current.register().receipt(receipt_id)
        assert (fresh.body, fresh.signature) == (kept.body, first["signature"]["value"])
        assert current.register().receipt("x" * 41) is None and current.register().receipt("f" * 32) is None


def test_receipt_json_page_is_the_signed_document(client):
    document = issue(client, [EVADER])
    response = client.get(document["links"]["json"])
    assert response.get_json() == {"receipt": document["receipt"], "signature": document["signature"]}
    assert "immutable" in response.headers["Cache-Control"]


def test_printable_receipt_has_a_qr_code_of_its_verification_link(client):
    document = issue(client, [EVADER, DELINQUENT])
    page = soup(client.get(document["links"]["html"]))
    verify_url = document["links"]["verify"]
    assert verify_url == f"https://congkhai.example.vn/verify?id={document['receipt']['id']}"
    svg = page.select_one("figure.qr svg")
    expected = io.BytesIO()
    qrcode.make(verify_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).save(expected)
    assert str(svg.find("path")["d"]) in expected.getvalue().decode()
    assert page.find("link", href="/static/receipt.css")
    assert page.find("code", class_="hash", string=document["receipt"]["release"]["datapackage_sha256"])
    assert page.find("code", class_="hash", string=document["signature"]["value"])
    assert len(page.select("table.answers tbody tr")) == 2
    css = (STATIC / "receipt.css").read_text()
    assert "size: A4" in css and "@media print" in css
    issued = page.find("time", datetime=document["receipt"]["created_at"])
    assert issued.get_text().endswith("(GMT+07:00)")  # Vietnam time, not UTC


def test_receipt_pages_for_an_unknown_id_are_404(client):
    assert client.get("/receipts/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/receipts/nope.json").status_code == 404
    assert client.get("/verify?id=" + "x" * 300).status_code == 404


def verdict(page) -> tuple[str, str]:
    item = page.select_one("section.verdict ul.checks li")
    return item["class"][0], item.get_text(" ", strip=True)


def test_verify_page_accepts_a_pasted_or_uploaded_receipt(client):
    document = issue(client, [EVADER])
    pasted = soup(client.post("/verify", data={"receipt": json.dumps(document, indent=2)}))
    assert verdict(pasted)[0] == "ok"
    assert "Xây lắp Đông Đô" in pasted.select_one("table.answers").get_text()
    upload = {"file": (io.BytesIO(json.dumps(document).encode()), "bien-nhan.json")}
    assert verdict(soup(client.post("/verify", data=upload, content_type="multipart/form-data")))[0] == "ok"
    scanned = soup(client.get(document["links"]["verify"].removeprefix("https://congkhai.example.vn")))
    assert verdict(scanned)[0] == "ok"


@pytest.mark.parametrize("change", [
    lambda d: d["receipt"]["answers"][0].update(eligible=True),
    lambda d: d["receipt"]["answers"][0]["employer"].update(name=d["receipt"]["answers"][0]["employer"]["name"][:-1] + "o"),
    lambda d: d["receipt"]["question"].update(date=(DAY_3.isoformat())),
    lambda d: d["receipt"]["release"].update(datapackage_sha256="0" * 64),
    lambda d: d["receipt"].update(created_at=d["receipt"]["created_at"].replace(":", ";", 1)),
    lambda d: d["signature"].update(value=("B" if d["signature"]["value"][0] == "A" else "A") + d["signature"]["value"][1:]),
])
def test_one_changed_character_is_detected(client, change):
    document = issue(client, [EVADER])
    change(document)
    page = soup(client.post("/verify", data={"receipt": json.dumps(document, ensure_ascii=False)}))
    status, message = verdict(page)
    assert status == "no" and "thay đổi" in message
    assert not page.select("table.answers")            # nothing of a forged receipt is displayed as fact


def test_a_receipt_signed_by_another_key_is_not_authentic(client, tmp_path):
    document = issue(client, [EVADER])
    other = generate_key(tmp_path / "other.key")
    body = {**document["receipt"], "public_key_id": other.key_id}
    _, forged = sign_receipt(body, other)
    status, message = verdict(soup(client.post("/verify", data={"receipt": json.dumps(forged)})))
    assert status == "no" and other.key_id not in message
    forged["receipt"]["public_key_id"] = document["receipt"]["public_key_id"]
    assert verdict(soup(client.post("/verify", data={"receipt": json.dumps(forged)})))[0] == "no"


def test_verify_explains_what_is_not_a_receipt(client):
    assert client.post("/verify", data={"receipt": "{not json"}).status_code == 400
    assert client.post("/verify", data={"receipt": ""}).status_code == 400
    status, _ = verdict(soup(client.post("/verify", data={"receipt": json.dumps({"hello": 1})})))
    assert status == "no"


def test_receipts_never_contain_a_full_personal_number(client, register):
    document = issue(client, [PERSONAL_NUMBER])
    for url in (document["links"]["html"], document["links"]["json"], document["links"]["api"]):
        response = client.get(url)
        assert response.status_code == 200, url
        assert PERSONAL_NUMBER not in response.get_data(as_text=True)
    assert PERSONAL_NUMBER not in stored_row(register, document["receipt"]["id"]).body


def test_without_a_signing_key_no_receipt_is_issued(register, tmp_path):
    app = make_app(register, CONGKHAI_SIGNING_KEY=str(tmp_path / "missing.key"))
    response = app.test_client().post("/api/v1/eligibility", json={"codes": [EVADER]})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"


def test_a_register_without_corrections_is_asked_once_per_release(app):
    """Batch checks look for corrections of the answered employers only when some are published."""
    from sqlalchemy import event

    from portal.database import db
    from portal import current

    with app.test_request_context():
        statements = []

        def listen(connection, cursor, statement, *rest):
            statements.append(statement)
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            assert current.any_published_correction() is False
            asked = len(statements)
            assert current.any_published_correction() is False and len(statements) == asked
            assert current.corrected_on(current.release().as_of, ["0100109106"]) == []
            assert not any("corrections" in statement for statement in statements[asked:])
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
