"""A past release in the archive gives back every file byte for byte, or says which one it cannot:
whole keyframes, zstd patches against them, and nothing trusted on the way back."""
import random
import shutil

import pytest

from congkhai.release_archive import (MANIFEST, ArchiveError, archived_files, read_manifest, restore_file,
                                      restore_release, write_archive)
from congkhai.release_format import SUMS, seal_release, verify_release
from congkhai.signing import generate_key

pytestmark = pytest.mark.skipif(shutil.which("zstd") is None, reason="the zstd command is not installed")


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    return generate_key(tmp_path_factory.mktemp("keys") / "signing.key")


def employers_lines(day: int, count: int = 3000) -> str:
    """A day's employers.jsonl-like text: the same employers, a few percent of them changed each day."""
    rng = random.Random(7)
    lines = []
    for number in range(count):
        arrears = rng.randrange(0, 10**9)
        if random.Random(number * 1000 + day).random() < 0.02 * day:
            arrears += day * 1_000_003
        lines.append(f'{{"key":"01{number:08d}","name":"Công ty TNHH Đại Phát {number}","arrears_total":{arrears}}}\n')
    return "".join(lines)


def make_release(root, signer, day: int):
    """A sealed release directory named by its date, with a nested feed and a dated workbook."""
    directory = root / f"2026-11-{day:02d}"
    (directory / "feeds" / "provinces").mkdir(parents=True)
    (directory / "employers.jsonl").write_text(employers_lines(day), encoding="utf-8")
    (directory / "datapackage.json").write_text('{"resources": []}', encoding="utf-8")
    (directory / "feeds" / "provinces" / "01.atom").write_text(f"<feed>Hà Nội {day}</feed>", encoding="utf-8")
    (directory / f"congkhai-2026-11-{day:02d}.xlsx").write_bytes(random.Random(day).randbytes(5000))
    seal_release(directory, signer)
    return directory


def archive(releases, archive_root, day, base=None):
    target = archive_root / f"2026-11-{day:02d}"
    scratch = archive_root / f".scratch-{day}"
    scratch.mkdir(parents=True, exist_ok=True)
    write_archive(releases / f"2026-11-{day:02d}", target, base, scratch)
    shutil.rmtree(scratch)
    return target


def tree(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def test_a_keyframe_and_a_patch_against_it_come_back_byte_for_byte_and_verify(tmp_path, signer):
    releases, archive_root = tmp_path / "releases", tmp_path / "archive"
    first, fourth = make_release(releases, signer, 1), make_release(releases, signer, 4)
    archive(releases, archive_root, 1)
    patched = archive(releases, archive_root, 4, base="2026-11-01")

    stored = {f.name: f for f in archived_files(patched)}
    assert stored["employers.jsonl"].base == "2026-11-01"
    assert stored["congkhai-2026-11-04.xlsx"].base is None  # no file of that name in the keyframe: whole
    assert read_manifest(patched)["base"] == "2026-11-01"
    patch_bytes = (patched / stored["employers.jsonl"].stored).stat().st_size
    assert patch_bytes < (fourth / "employers.jsonl").stat().st_size / 20

    for original, archived in ((first, archive_root / "2026-11-01"), (fourth, patched)):
        out = tmp_path / "restored" / original.name
        restore_release(archived, out)
        assert tree(out) == tree(original)
        assert verify_release(out, signer.public_key_pem) == []


def test_a_damaged_patch_is_refused_naming_the_file_and_leaves_nothing(tmp_path, signer):
    releases, archive_root = tmp_path / "releases", tmp_path / "archive"
    make_release(releases, signer, 1), make_release(releases, signer, 2)
    archive(releases, archive_root, 1)
    patched = archive(releases, archive_root, 2, base="2026-11-01")
    wanted = {f.name: f for f in archived_files(patched)}["employers.jsonl"]
    stored = patched / wanted.stored
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))

    out = tmp_path / "out" / "employers.jsonl"
    with pytest.raises(ArchiveError, match="employers.jsonl"):
        restore_file(patched, wanted, out)
    assert not out.exists()


def test_a_patch_whose_keyframe_is_gone_says_so(tmp_path, signer):
    releases, archive_root = tmp_path / "releases", tmp_path / "archive"
    make_release(releases, signer, 1), make_release(releases, signer, 2)
    archive(releases, archive_root, 1)
    patched = archive(releases, archive_root, 2, base="2026-11-01")
    (archive_root / "2026-11-01" / MANIFEST).unlink()
    with pytest.raises(ArchiveError, match="keyframe release 2026-11-01 is not in the archive"):
        restore_release(patched, tmp_path / "out")


def test_a_release_that_does_not_match_its_sums_is_not_archived(tmp_path, signer):
    releases = tmp_path / "releases"
    directory = make_release(releases, signer, 1)
    with (directory / "employers.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"key":"0100000001","name":"Đ"}\n')
    with pytest.raises(ArchiveError, match="employers.jsonl: sha256 differs from SHA256SUMS"):
        archive(releases, tmp_path / "archive", 1)


def test_a_file_not_listed_in_the_sums_stops_the_archiving(tmp_path, signer):
    releases = tmp_path / "releases"
    directory = make_release(releases, signer, 1)
    (directory / "stray.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(ArchiveError, match=f"stray.csv is not listed in {SUMS}"):
        archive(releases, tmp_path / "archive", 1)
