"""The command line: exit status 0 on success, 1 on a verification failure, 2 on bad usage."""
import json
from datetime import timedelta

import pytest

from publisher.cli import main

from .factory import AS_OF, write_all

DAY2 = AS_OF + timedelta(days=1)


def test_publish_status_and_diff(env, capsys):
    write_all(env / "d1", overrides={("79", 0): dict(arrears_bhxh="2.000.000", months_late=3)})
    write_all(env / "d2", as_of=DAY2)
    assert main(["status"]) == 0
    assert "No release has been published yet." in capsys.readouterr().out
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Published release 2026-11-25" in out and "delinquent" in out and "rejects.csv" in out
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    assert "already published from the same inputs" in capsys.readouterr().out
    assert main(["publish", "--input", str(env / "d2"), "--as-of", DAY2.isoformat(), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Current release: 2026-11-26" in out and "releases:    2 (2026-11-25 .. 2026-11-26)" in out
    assert main(["diff", AS_OF.isoformat(), DAY2.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "1 change(s) from 2026-11-25 to 2026-11-26" in out and "delinquent -> compliant" in out
    assert main(["diff", AS_OF.isoformat(), "2020-01-01"]) == 2
    assert "no release for 2020-01-01" in capsys.readouterr().err


def test_verification_failure_exits_1_and_points_to_rejects(env, capsys):
    write_all(env / "d1", skip=("48",), overrides={("79", 1): dict(tax_code="0100233487")})
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "Verification failed: nothing was published" in err
    assert "no report for province 48 (Thành phố Đà Nẵng)" in err
    assert "1 of 3 rows rejected" in err
    rejects = (env / "data" / "rejects" / "2026-11-25" / "failed-run-rejects.csv").read_text(encoding="utf-8")
    assert "Mã số thuế,0100233487,tax code '0100233487' fails its check digit,79" in rejects


@pytest.mark.parametrize("argv", [
    ["publish", "--input", "x"],
    ["publish", "--input", "x", "--as-of", "25/11/2026"],
    ["frobnicate"],
    [],
])
def test_bad_usage_exits_2(env, argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2


def test_publishing_out_of_order_exits_2(env, capsys):
    write_all(env / "d2", as_of=DAY2)
    write_all(env / "d1")
    assert main(["publish", "--input", str(env / "d2"), "--as-of", DAY2.isoformat(), "--quiet"]) == 0
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 2
    assert "releases are published in date order" in capsys.readouterr().err


def test_sample_then_publish_rejects_nothing(env, capsys):
    assert main(["sample", "--out", str(env / "s1"), "--employers", "120", "--as-of", "2026-11-24"]) == 0
    assert "120 employers" in capsys.readouterr().out
    assert main(["sample", "--out", str(env / "s2"), "--as-of", "2026-11-25", "--previous", str(env / "s1")]) == 0
    assert main(["publish", "--input", str(env / "s1"), "--as-of", "2026-11-24", "--quiet"]) == 0
    assert main(["publish", "--input", str(env / "s2"), "--as-of", "2026-11-25", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("rows rejected:           0") == 2
    assert main(["sample", "--out", str(env / "s3"), "--employers", "10", "--as-of", "2026-11-24"]) == 2


def test_verify_names_a_tampered_file_and_checks_the_expected_key(env, capsys):
    write_all(env / "d1")
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    release = env / "data" / "releases" / "current"
    public_key = env / "data" / "keys" / "signing.pub.pem"
    assert main(["verify", str(release), "--public-key", str(public_key)]) == 0
    other = env / "other.key"
    from congkhai.signing import generate_key
    generate_key(other)
    assert main(["verify", str(release), "--public-key", str(env / "other.pub.pem")]) == 1
    csv_path = release / "employers.csv"
    data = bytearray(csv_path.read_bytes())
    data[-5] ^= 1
    csv_path.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["verify", str(release)]) == 1
    assert "employers.csv" in capsys.readouterr().err
    assert main(["verify", str(env / "nowhere")]) == 2


def test_verify_refuses_a_release_re_signed_by_someone_else(env, capsys, monkeypatch):
    """A forger who re-hashes, re-signs and ships their own key inside the copy is caught by the
    agency's key; with no agency key at hand, verify says it cannot prove who signed (exit 1)."""
    import shutil

    from congkhai.signing import generate_key
    from congkhai.release_format import file_sha256, seal_release

    write_all(env / "d1")
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    forged = env / "forged"
    shutil.copytree(env / "data" / "releases" / "current", forged)
    with (forged / "employers.csv").open("a", encoding="utf-8") as handle:
        handle.write("forged\n")
    forger = generate_key(env / "forger.key")
    (forged / "signing-key.pub.pem").write_text(forger.public_key_pem)
    descriptor = json.loads((forged / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in descriptor["resources"] if r["path"] == "employers.csv")
    resource["hash"] = resource["hash"].split(":")[0] + ":" + file_sha256(forged / "employers.csv")
    resource["bytes"] = (forged / "employers.csv").stat().st_size
    (forged / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    seal_release(forged, forger)
    capsys.readouterr()
    monkeypatch.setenv("CONGKHAI_SIGNING_KEY", str(env / "forger.key"))
    assert main(["verify", str(forged)]) == 0  # self-consistent under the forger's own key
    monkeypatch.setenv("CONGKHAI_SIGNING_KEY", str(env / "data" / "keys" / "signing.key"))
    capsys.readouterr()
    assert main(["verify", str(forged)]) == 1  # the configured agency key is the default
    monkeypatch.setenv("CONGKHAI_SIGNING_KEY", str(env / "absent" / "signing.key"))
    assert main(["verify", str(forged)]) == 1
    assert "does not prove who signed" in capsys.readouterr().err


def test_publishing_a_date_in_the_future_exits_2(env, capsys):
    assert main(["publish", "--input", str(env / "none"), "--as-of", "2999-01-01", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "congkhai: error: cannot publish 2999-01-01, a date in the future: today is " in err
    assert " in Asia/Ho_Chi_Minh; check the date" in err
