"""Ed25519 signatures for what the agency publishes: release checksums now, eligibility receipts later.

Whoever holds only the public key (published in every release and on the portal) can check that a
file or a receipt came from the agency and was not altered. The private key stays in the data
directory (`keys/signing.key`, mode 0600) and is never logged or published.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from datetime import date, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class SigningKeyError(RuntimeError):
    """The key file is missing, unreadable, not Ed25519 or readable by others; the message names the file."""


class Signer:
    """A loaded private key: signs bytes and tells which public key checks them."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._private_key = private_key
        self.public_key_pem = public_pem(private_key.public_key())
        self.key_id = key_id(self.public_key_pem)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._private_key.sign(data)).decode("ascii")

    def __repr__(self) -> str:
        return f"<Signer key_id={self.key_id}>"


def public_key_path(private_key_path: str | os.PathLike) -> Path:
    """Where the public half lives beside the private key: keys/signing.key -> keys/signing.pub.pem."""
    return Path(private_key_path).with_suffix(".pub.pem")


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def key_id(public_key_pem: str) -> str:
    """Short fingerprint (first 16 hex digits of the sha256 of the raw key), to name a key in messages."""
    raw = _load_public_key(public_key_pem).public_bytes(serialization.Encoding.Raw,
                                                        serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(path: str | os.PathLike, force: bool = False) -> Signer:
    """Create a new Ed25519 key at `path` (0600) and its public key beside it.

    Refuses to replace an existing key unless `force`: every release and receipt signed with the old
    key could then only be checked against a copy of the old public key.
    """
    path = Path(path)
    if path.exists() and not force:
        raise SigningKeyError(f"{path}: a signing key already exists; use force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    signer = Signer(private_key)
    public_key_path(path).write_text(signer.public_key_pem, encoding="ascii")
    return signer


def load_signer(path: str | os.PathLike) -> Signer:
    path = Path(path)
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(f"{path}: no signing key; create one with `congkhai keygen`") from None
    except OSError as error:
        raise SigningKeyError(f"{path}: cannot read the signing key: {error.strerror}") from None
    if os.name == "posix" and mode & 0o077:
        raise SigningKeyError(f"{path}: the signing key is readable by other users (mode {mode & 0o777:o}); "
                              "run chmod 600 on it")
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"{path}: not an unencrypted PEM private key ({error})") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an Ed25519 key")
    return Signer(private_key)


def _load_public_key(public_key_pem: str | bytes) -> Ed25519PublicKey:
    data = public_key_pem.encode("ascii") if isinstance(public_key_pem, str) else public_key_pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def verify_signature(public_key_pem: str | bytes, data: bytes, signature_b64: str) -> bool:
    """True only when `signature_b64` is a valid signature of `data` by that key; never raises on bad input."""
    try:
        key = _load_public_key(public_key_pem)
        signature = base64.b64decode(signature_b64.strip(), validate=True)
        key.verify(signature, data)
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True


def _json_default(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"canonical_json cannot encode {type(value).__name__}")


def canonical_json(obj) -> bytes:
    """The one byte form of a JSON document that is signed: sorted keys, no spaces, UTF-8.

    Strings are not re-normalised (we store NFC everywhere). Dates and datetimes become ISO 8601
    strings; anything else that JSON cannot hold, NaN included, is an error.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=_json_default).encode("utf-8")
