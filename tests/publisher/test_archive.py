import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timezone

import pytest

from congkhai.config import REPO_ROOT, Paths
from congkhai.signing import generate_key, load_signer
from publisher import archive
from congkhai.release_format import SIGNATURE, SUMS, file_sha256, verify_release
from publisher.archive import (current_release_id, install_release_dir, make_temp_release_dir,
                               remove_stale_temporaries, switch_current, update_release_index)
from publisher.package import write_release_files

from .release_sample import REMOVED, built_release


@pytest.fixture
def signer(settings):
    return load_signer(settings["CONGKHAI_SIGNING_KEY"])


def publish(settings, signer, **changes) -> tuple:
    """What the pipeline does with this module: temporary dir, files, install, current, index."""
    releases = Paths(settings["CONGKHAI_DATA_DIR"]).releases
    built = built_release(**changes)
    tmp = make_temp_release_dir(releases, built.id)
    result = write_release_files(built, tmp, settings, signer, None, removed={REMOVED.key: REMOVED})
    install_release_dir(tmp, releases / built.id)
    switch_current(releases, built.id)
    update_release_index(releases, result["index_entry"])
    return releases, result


@pytest.fixture
def release_dir(settings, signer):
    releases, result = publish(settings, signer)
    return releases / result["id"]


def test_an_intact_release_verifies(release_dir, signer):
    assert verify_release(release_dir) == []
    assert verify_release(release_dir, signer.public_key_pem) == []


def test_one_byte_changed_in_one_csv_is_named(release_dir):
    path = release_dir / "delinquent.csv"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    problems = verify_release(release_dir)
    assert problems == ["delinquent.csv: sha256 does not match SHA256SUMS (the file was altered)"]


def test_altered_checksums_break_the_signature(release_dir):
    sums = release_dir / SUMS
    lines = sums.read_text().splitlines()
    lines[0] = "0" * 64 + lines[0][64:]
    sums.write_text("\n".join(lines) + "\n")
    problems = verify_release(release_dir)
    name = lines[0].split("  ", 1)[1]
    assert f"{name}: sha256 does not match SHA256SUMS (the file was altered)" in problems
    assert any(problem.startswith(f"{SIGNATURE}: not a valid signature") for problem in problems)


def test_bad_signature(release_dir):
    (release_dir / SIGNATURE).write_text("AAAA" * 22 + "\n")
    problems = verify_release(release_dir)
    assert len(problems) == 1 and problems[0].startswith(f"{SIGNATURE}: not a valid signature of {SUMS}")


def test_a_release_re_signed_with_another_key_is_caught_only_with_the_expected_key(release_dir, signer, tmp_path):
    impostor = generate_key(tmp_path / "impostor.key")
    (release_dir / "signing-key.pub.pem").write_text(impostor.public_key_pem)
    # the impostor would also have to re-hash and re-sign: do so, the release is then self-consistent
    sums = "".join(line if "signing-key.pub.pem" not in line else
                   f"{file_sha256(release_dir / 'signing-key.pub.pem')}  signing-key.pub.pem\n"
                   for line in (release_dir / SUMS).read_text().splitlines(keepends=True))
    (release_dir / SUMS).write_text(sums)
    (release_dir / SIGNATURE).write_text(impostor.sign(sums.encode()) + "\n")
    assert verify_release(release_dir) == []
    assert verify_release(release_dir, signer.public_key_pem) == [
        f"signing-key.pub.pem: signed with key {impostor.key_id}, not the agency's key {signer.key_id}"]


def test_missing_and_unlisted_files_are_named(release_dir):
    (release_dir / "feeds" / "resolved.rss").unlink()
    (release_dir / "extra.csv").write_text("x\n")
    assert verify_release(release_dir) == ["feeds/resolved.rss: missing (listed in SHA256SUMS)",
                                           "extra.csv: not listed in SHA256SUMS"]


def test_missing_signature_or_checksums(release_dir):
    (release_dir / SIGNATURE).unlink()
    assert verify_release(release_dir) == [f"{SIGNATURE}: missing; the release is not signed"]
    (release_dir / SUMS).unlink()
    assert verify_release(release_dir)[0].startswith(f"{SUMS}: missing")


def test_checksum_lines_cannot_point_outside_the_release(release_dir):
    with (release_dir / SUMS).open("a") as handle:
        handle.write("0" * 64 + "  ../../etc/passwd\nnot a line\n")
    problems = verify_release(release_dir)
    assert any("'../../etc/passwd' points outside the release" in problem for problem in problems)
    assert any("not a 'sha256  file' line" in problem for problem in problems)


def test_install_over_an_existing_release_replaces_it(settings, signer, monkeypatch):
    exchanges = []
    exchange = archive._exchange
    monkeypatch.setattr(archive, "_exchange", lambda first, second: exchanges.append(exchange(first, second))
                        or exchanges[-1])
    releases, first = publish(settings, signer)
    later = datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)
    _, second = publish(settings, signer, created_at=later)
    assert first["datapackage_sha256"] != second["datapackage_sha256"]
    final = releases / "2026-11-25"
    assert file_sha256(final / "datapackage.json") == second["datapackage_sha256"]
    assert verify_release(final) == []
    assert [p.name for p in releases.iterdir() if p.name.startswith(".")] == []
    assert exchanges == [sys.platform.startswith("linux")]


def test_install_without_renameat2_sets_the_old_release_aside(settings, signer, monkeypatch):
    monkeypatch.setattr(archive, "_exchange", lambda first, second: False)
    releases, _ = publish(settings, signer)
    _, second = publish(settings, signer, created_at=datetime(2026, 11, 26, tzinfo=timezone.utc))
    assert file_sha256(releases / "2026-11-25" / "datapackage.json") == second["datapackage_sha256"]
    assert [p.name for p in releases.iterdir() if p.name.startswith(".")] == []


def test_current_points_at_the_switched_release(settings, signer):
    releases, _ = publish(settings, signer)
    current = releases / "current"
    assert current.is_symlink() and os.readlink(current) == "2026-11-25"
    assert (current / "datapackage.json").is_file()
    (releases / "2026-11-26").mkdir()
    switch_current(releases, "2026-11-26")
    assert current_release_id(releases) == "2026-11-26"
    with pytest.raises(FileNotFoundError):
        switch_current(releases, "2030-01-01")
    assert current_release_id(releases) == "2026-11-26"


def test_index_lists_every_release_newest_first_and_replaces_a_rerun(settings, signer):
    releases, result = publish(settings, signer)
    update_release_index(releases, dict(result["index_entry"], id="2026-11-20", as_of="2026-11-20"))
    update_release_index(releases, dict(result["index_entry"], partial=True))
    index = json.loads((releases / "index.json").read_text(encoding="utf-8"))
    assert [entry["id"] for entry in index["releases"]] == ["2026-11-25", "2026-11-20"]
    assert index["releases"][0]["partial"] is True
    assert index["current"] == "2026-11-25"
    assert index["releases"][0]["datapackage_sha256"] == result["datapackage_sha256"]
    assert index["releases"][0]["counts"]["offenders"] == 7


def test_a_broken_index_is_an_error_not_silently_replaced(settings, signer):
    releases, result = publish(settings, signer)
    (releases / "index.json").write_text("{")
    with pytest.raises(ValueError, match="index.json"):
        update_release_index(releases, result["index_entry"])


CHILD = textwrap.dedent("""
    import sys, time
    from datetime import datetime, timezone
    sys.path.insert(0, {root!r})
    from congkhai.config import load_settings, Paths
    from congkhai.signing import load_signer
    from publisher.archive import make_temp_release_dir
    from publisher.package import write_release_files
    from tests.publisher.release_sample import REMOVED, built_release

    class SlowSigner:
        def __init__(self, signer):
            self.signer, self.public_key_pem, self.key_id = signer, signer.public_key_pem, signer.key_id
        def sign(self, data):
            print("signing", flush=True)
            time.sleep(60)
            return self.signer.sign(data)

    settings = load_settings(env={{}}, CONGKHAI_DATA_DIR={data_dir!r})
    signer = SlowSigner(load_signer(settings["CONGKHAI_SIGNING_KEY"]))
    built = built_release(created_at=datetime(2026, 11, 25, 23, 0, tzinfo=timezone.utc))
    tmp = make_temp_release_dir(Paths(settings["CONGKHAI_DATA_DIR"]).releases, built.id)
    write_release_files(built, tmp, settings, signer, None, removed={{REMOVED.key: REMOVED}})
""")


def test_a_publisher_killed_mid_write_leaves_the_previous_release_readable(settings, signer):
    releases, first = publish(settings, signer)
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(REPO_ROOT),
                                                                 data_dir=settings["CONGKHAI_DATA_DIR"])],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "signing"  # every data file written, not yet sealed
        leftovers = [p for p in releases.iterdir() if p.name.startswith(".2026-11-25.tmp-")]
        assert len(leftovers) == 1 and (leftovers[0] / "employers.csv").is_file()
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert current_release_id(releases) == "2026-11-25"
    assert verify_release(releases / "current", signer.public_key_pem) == []
    assert file_sha256(releases / "current" / "datapackage.json") == first["datapackage_sha256"]
    assert remove_stale_temporaries(releases) == leftovers
    assert not leftovers[0].exists()
    assert verify_release(releases / "2026-11-25") == []
