"""The release format in one home: its file names, SHA256SUMS written and read, sealing and verifying.

The publisher writes a release through it (`seal_release`); the portal and `congkhai verify` read
one through it (`read_sums`, `verify_release`). A SHA256SUMS file is `<sha256>  <path>` lines, the
format of `sha256sum`, so anyone can check a release with stock tools.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .signing import key_id, verify_signature

DATAPACKAGE = "datapackage.json"
SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.sig"
PUBLIC_KEY = "signing-key.pub.pem"
_SUMS_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def format_sums(listed: dict[str, str]) -> str:
    """SHA256SUMS's text for {path: sha256}, sorted by path."""
    return "".join(f"{digest}  {relative}\n" for relative, digest in sorted(listed.items()))


def read_sums(text: str) -> tuple[dict[str, str], list[str]]:
    """{path: sha256} of a SHA256SUMS text, and a problem for each line that is not one (or names a
    path outside the release)."""
    listed, problems = {}, []
    for number, line in enumerate(text.splitlines(), 1):
        match = _SUMS_LINE.fullmatch(line)
        if not match:
            problems.append(f"{SUMS}, line {number}: not a 'sha256  file' line")
            continue
        digest, name = match.groups()
        if name.startswith("/") or ".." in Path(name).parts:
            problems.append(f"{SUMS}, line {number}: {name!r} points outside the release")
            continue
        listed[name] = digest
    return listed, problems


def seal_release(out_dir: Path, signer, hashes: dict[str, str] | None = None) -> dict[str, str]:
    """Publish the public key, list every file's sha256 in SHA256SUMS and sign that list.

    `hashes` holds digests already computed (by file path relative to out_dir), to read big files once.
    """
    hashes = dict(hashes or {})
    (out_dir / PUBLIC_KEY).write_text(signer.public_key_pem, encoding="ascii")
    listed = {}
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(out_dir).as_posix()
        if relative in (SUMS, SIGNATURE):
            continue
        listed[relative] = hashes.get(relative) or file_sha256(path)
    sums = format_sums(listed)
    (out_dir / SUMS).write_text(sums, encoding="utf-8")
    (out_dir / SIGNATURE).write_text(signer.sign(sums.encode("utf-8")) + "\n", encoding="ascii")
    return listed


def verify_release(release_dir: Path, expected_public_key_pem: str | None = None) -> list[str]:
    """Every problem with a release directory, each naming the file; an empty list means intact.

    Checks SHA256SUMS against every file (altered, missing, unlisted), its signature with the
    release's public key, that key against `expected_public_key_pem` when given (the agency's own,
    which proves who signed), and the sizes and hashes that datapackage.json declares.
    """
    release_dir = Path(release_dir)
    if not release_dir.is_dir():
        return [f"{release_dir}: not a release directory"]
    sums_path = release_dir / SUMS
    if not sums_path.is_file():
        return [f"{SUMS}: missing; nothing in {release_dir} can be checked"]
    sums = sums_path.read_bytes()
    listed, problems = read_sums(sums.decode("utf-8", errors="replace"))

    actual: dict[str, str] = {}
    altered = set()
    for name, digest in sorted(listed.items()):
        path = release_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing (listed in {SUMS})")
            altered.add(name)
            continue
        actual[name] = file_sha256(path)
        if actual[name] != digest:
            problems.append(f"{name}: sha256 does not match {SUMS} (the file was altered)")
            altered.add(name)
    present = {path.relative_to(release_dir).as_posix() for path in release_dir.rglob("*")
               if path.is_file() or path.is_symlink()}
    for name in sorted(present - set(listed) - {SUMS, SIGNATURE}):
        problems.append(f"{name}: not listed in {SUMS}")

    problems += _check_signature(release_dir, sums, expected_public_key_pem)
    problems += _check_datapackage(release_dir, actual, altered)
    return problems


def _check_signature(release_dir: Path, sums: bytes, expected_public_key_pem: str | None) -> list[str]:
    public_path, signature_path = release_dir / PUBLIC_KEY, release_dir / SIGNATURE
    if not signature_path.is_file():
        return [f"{SIGNATURE}: missing; the release is not signed"]
    if not public_path.is_file():
        return [f"{PUBLIC_KEY}: missing; the signature cannot be checked"]
    public_pem = public_path.read_text(encoding="ascii", errors="replace")
    try:
        release_key = key_id(public_pem)
    except ValueError:
        return [f"{PUBLIC_KEY}: not an Ed25519 public key"]
    problems = []
    if not verify_signature(public_pem, sums, signature_path.read_text(encoding="ascii", errors="replace")):
        problems.append(f"{SIGNATURE}: not a valid signature of {SUMS} by key {release_key} ({PUBLIC_KEY})")
    if expected_public_key_pem is not None:
        try:
            expected = key_id(expected_public_key_pem)
        except ValueError:
            problems.append("expected public key: not an Ed25519 public key")
        else:
            if expected != release_key:
                problems.append(f"{PUBLIC_KEY}: signed with key {release_key}, not the agency's key {expected}")
    return problems


def _check_datapackage(release_dir: Path, actual: dict[str, str], altered: set[str]) -> list[str]:
    path = release_dir / DATAPACKAGE
    if not path.is_file():
        return [] if DATAPACKAGE in altered else [f"{DATAPACKAGE}: missing"]
    try:
        resources = json.loads(path.read_text(encoding="utf-8"))["resources"]
    except (ValueError, KeyError):
        return [f"{DATAPACKAGE}: not a data package"]
    problems = []
    for resource in resources:
        name = resource.get("path")
        if not isinstance(name, str) or name in altered:
            continue
        file = release_dir / name
        if not file.is_file():
            problems.append(f"{name}: missing (a resource of {DATAPACKAGE})")
            continue
        digest = actual.get(name) or file_sha256(file)
        if resource.get("hash") != f"sha256:{digest}" or resource.get("bytes") != file.stat().st_size:
            problems.append(f"{name}: size or sha256 differs from {DATAPACKAGE}")
    return problems
