"""Receipts cannot be enumerated, forged or altered.

Ids are 128 bits of a sha256 over the receipt's whole content, looked up exactly: a near miss, a
prefix or another spelling is a 404 that says no more than a random id would. A receipt whose body,
id or signature was changed, or that carries another receipt's signature, fails /verify on the page
and in the API. (Anyone who asks the same question of the same release gets the same receipt, by
design: the id hides nothing that asking again would not show.)
"""
import io
import json
import re

import pytest

from congkhai.receipts import MAX_CODES, MAX_DOCUMENT_BYTES, sign_receipt
from congkhai.signing import load_signer
from tests.portal.conftest import soup
from tests.portal.eligibility_register import DAY_2, DELINQUENT, EVADER, app, register  # noqa: F401

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def issue(client, codes) -> dict:
    response = client.post("/api/v1/eligibility", json={"codes": codes, "date": str(DAY_2)})
    assert response.status_code == 200
    return response.get_json()


def test_ids_are_128_bits_that_change_entirely_with_the_content(client):
    one, other = issue(client, [EVADER])["receipt"]["id"], issue(client, [DELINQUENT])["receipt"]["id"]
    assert HEX_ID.match(one) and HEX_ID.match(other)
    assert sum(a != b for a, b in zip(one, other)) >= 20     # no shared prefix, no counter: nothing to walk


def near_misses(real: str) -> list[str]:
    flipped = real[:-1] + ("0" if real[-1] != "0" else "1")
    return [flipped, real[:-1], real[:16], real.upper(), real + "0", "0" * 32, "f" * 32, real[1:] + real[0]]


def without(text: str, wrong: str) -> str:
    return text.replace(wrong, "ID")


def test_a_wrong_id_is_a_404_that_tells_nothing(client):
    real = issue(client, [EVADER])["receipt"]["id"]
    random_page = client.get("/receipts/" + "9" * 32)
    random_api = client.get("/api/v1/receipts/" + "9" * 32)
    assert random_page.status_code == random_api.status_code == 404
    for wrong in near_misses(real):
        for url, reference in ((f"/receipts/{wrong}", random_page), (f"/api/v1/receipts/{wrong}", random_api),
                               (f"/receipts/{wrong}.json", None), (f"/verify?id={wrong}", None)):
            response = client.get(url)
            assert response.status_code == 404, url
            body = without(response.get_data(as_text=True), wrong)      # the id asked for is echoed, escaped
            assert real not in body.lower()
            if reference is not None:      # the same answer as for an id that never existed
                assert body == without(reference.get_data(as_text=True), "9" * 32)
                assert set(response.headers.keys()) == set(reference.headers.keys())


@pytest.mark.parametrize("alter", [
    lambda d, o: d["receipt"].update(id=o["receipt"]["id"]),                              # another receipt's id
    lambda d, o: d.update(signature=o["signature"]),                                      # another receipt's signature
    lambda d, o: d["receipt"]["answers"][0].update(reason="eligible", eligible=True),    # the verdict
    lambda d, o: d["receipt"]["answers"][0]["employer"].update(name="Công ty Khác"),     # the name
    lambda d, o: d["receipt"].update(public_key_id=o["receipt"]["public_key_id"][::-1]),  # the key named
    lambda d, o: d["signature"].update(value=""),
    lambda d, o: d["signature"].update(value="A" * 86 + "=="),
])
def test_an_altered_receipt_fails_verification_in_the_api_and_on_the_page(client, alter):
    document, other = issue(client, [EVADER]), issue(client, [DELINQUENT])
    forged = {"receipt": json.loads(json.dumps(document["receipt"])), "signature": dict(document["signature"])}
    alter(forged, other)
    verdict = client.post("/api/v1/verify", json=forged).get_json()
    assert verdict["authentic"] is False and verdict["on_file"] is False
    assert verdict["reason"] in ("bad_signature", "unknown_key")
    page = soup(client.post("/verify", data={"receipt": json.dumps(forged, ensure_ascii=False)}))
    assert page.select_one("section.verdict ul.checks li")["class"][0] == "no"
    assert not page.select("table.answers")
    untouched = client.post("/api/v1/verify", json=document).get_json()
    assert untouched["authentic"] is True and untouched["on_file"] is True


def test_the_largest_receipt_can_be_verified_on_the_page_and_in_the_api(client, register):
    """A thousand found rows with the longest fields the schemas allow, pretty-printed as an auditor
    might keep it: far over the 512 KiB that bounds a question, within what /verify takes."""
    document = issue(client, [EVADER])
    row = document["receipt"]["answers"][0]
    row["employer"].update(name="ế" * 500, address="ế" * 1000, sector="ế" * 200)   # 3 bytes each in UTF-8
    row["state"].update(enforcement_stage="ế" * 200)
    body = {**document["receipt"], "answers": [{**row, "row": n} for n in range(1, MAX_CODES + 1)]}
    _, signed = sign_receipt(body, load_signer(register["CONGKHAI_SIGNING_KEY"]))
    text = json.dumps(signed, ensure_ascii=False, indent=2)
    assert 1024 * 1024 < len(text.encode()) < MAX_DOCUMENT_BYTES
    assert client.post("/api/v1/verify", json=signed).get_json()["authentic"] is True
    for data in ({"receipt": text}, {"file": (io.BytesIO(text.encode()), "bien-nhan.json")}):
        page = soup(client.post("/verify", data=data, content_type="multipart/form-data"))
        assert page.select_one("section.verdict ul.checks li")["class"][0] == "ok"
    too_big = client.post("/verify", data={"receipt": " " * MAX_DOCUMENT_BYTES + text})
    assert too_big.status_code == 413
