import json
import os
import re
import stat

import pytest

from congkhai.signing import (SigningKeyError, canonical_json, generate_key, key_id, load_signer,
                              public_key_path, verify_signature)


@pytest.fixture
def key_path(tmp_path):
    path = tmp_path / "keys" / "signing.key"
    generate_key(path)
    return path


def test_generate_writes_private_key_0600_and_public_key_beside_it(key_path):
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key_path.read_bytes()
    public = public_key_path(key_path)
    assert public.name == "signing.pub.pem"
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert load_signer(key_path).public_key_pem == public.read_text()


def test_generate_refuses_to_overwrite_unless_forced(key_path):
    before = key_path.read_bytes()
    with pytest.raises(SigningKeyError, match="already exists"):
        generate_key(key_path)
    assert key_path.read_bytes() == before
    generate_key(key_path, force=True)
    assert key_path.read_bytes() != before
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_sign_and_verify(key_path):
    signer = load_signer(key_path)
    data = "Công ty TNHH Đức Anh".encode()
    signature = signer.sign(data)
    assert verify_signature(signer.public_key_pem, data, signature)
    assert not verify_signature(signer.public_key_pem, data + b" ", signature)
    assert not verify_signature(signer.public_key_pem, data, "bm90IGEgc2lnbmF0dXJl")
    assert not verify_signature(signer.public_key_pem, data, "not base64 !")
    assert not verify_signature("not a key", data, signature)


def test_signature_from_another_key_fails(key_path, tmp_path):
    other = generate_key(tmp_path / "other.key")
    signer = load_signer(key_path)
    assert other.key_id != signer.key_id
    assert not verify_signature(other.public_key_pem, b"x", signer.sign(b"x"))


def test_key_id_is_a_short_stable_fingerprint(key_path):
    signer = load_signer(key_path)
    assert signer.key_id == key_id(public_key_path(key_path).read_text())
    assert re.fullmatch(r"[0-9a-f]{16}", signer.key_id)
    assert signer.key_id not in repr(key_path.read_bytes())


def test_load_names_the_file_when_missing_or_wrong(tmp_path, key_path):
    with pytest.raises(SigningKeyError, match="congkhai keygen"):
        load_signer(tmp_path / "absent.key")
    garbage = tmp_path / "garbage.key"
    garbage.write_text("hello")
    garbage.chmod(0o600)
    with pytest.raises(SigningKeyError, match="garbage.key"):
        load_signer(garbage)
    os.chmod(key_path, 0o644)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        load_signer(key_path)


def test_canonical_json_is_sorted_compact_utf8():
    body = {"tên": "Đơn vị Ế", "b": [1, 2], "a": {"z": None, "y": True}}
    assert canonical_json(body) == '{"a":{"y":true,"z":null},"b":[1,2],"tên":"Đơn vị Ế"}'.encode()
    assert json.loads(canonical_json(body)) == body
    assert canonical_json({"x": 1, "y": 2}) == canonical_json({"y": 2, "x": 1})


def test_canonical_json_dates_and_refusals():
    from datetime import date, datetime, timezone
    assert canonical_json({"d": date(2026, 3, 3)}) == b'{"d":"2026-03-03"}'
    assert canonical_json([datetime(2026, 3, 3, 12, tzinfo=timezone.utc)]) == b'["2026-03-03T12:00:00+00:00"]'
    with pytest.raises(TypeError):
        canonical_json({"s": {1, 2}})
    with pytest.raises(ValueError):
        canonical_json({"n": float("nan")})
