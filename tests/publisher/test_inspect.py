"""`congkhai inspect`: what the publisher understood of a day's reports and whether it would publish
them, with nothing written anywhere."""
import json
from datetime import timedelta

from publisher.cli import main

from .factory import AS_OF, tax_code, write_all

DAY2 = AS_OF + timedelta(days=1)
DELINQUENT = {"arrears_bhxh": 9_000_000, "arrears_bhyt": 1_000_000, "months_late": 4}


def tree(directory):
    return sorted((p.relative_to(directory).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in directory.rglob("*") if p.is_file())


def test_inspecting_a_sound_day_says_it_would_publish_and_writes_nothing(env, capsys):
    write_all(env / "d1", overrides={("01", 0): DELINQUENT})
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    write_all(env / "d2", as_of=DAY2, overrides={("01", 0): DELINQUENT})
    before = tree(env / "data")
    capsys.readouterr()
    assert main(["inspect", "--input", str(env / "d2"), "--as-of", DAY2.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "OK  01 Thành phố Hà Nội (01-bao-cao.csv, csv)" in out
    assert "rows read 3, rejected 0, employers 3; offenders 1 (in notice 0), evading 0; control totals checked" in out
    assert "last report (2026-11-25): employers 3, offenders 1, evading 0" in out
    assert out.rstrip().endswith("Verdict: `congkhai publish` would publish every province.")
    assert tree(env / "data") == before


def test_inspecting_a_damaged_day_explains_each_refusal(env, capsys):
    write_all(env / "d1", rows_per_province=25, overrides={("01", 0): DELINQUENT})
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    write_all(env / "d2", as_of=DAY2, rows_per_province=25, omit={("01", 0)},
              overrides={("79", 4): {"arrears_bhxh": "#REF!", "months_late": 4}})
    before = tree(env / "data")
    capsys.readouterr()
    assert main(["inspect", "--input", str(env / "d2"), "--as-of", DAY2.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "NO  01 Thành phố Hà Nội" in out
    assert f"1 listed offender(s) of the report of 25/11/2026 are missing from this report" in out
    assert f"'Mã số thuế' = '{tax_code(1)}': listed offender in the report of 25/11/2026, missing from this one " \
           f"without a payment recorded: Công ty TNHH Thử Nghiệm Số 1" in out
    assert "OK  79 Thành phố Hồ Chí Minh" in out and "spreadsheet error value #REF!" in out
    assert "with --allow-partial it would leave out the provinces marked NO" in out
    assert tree(env / "data") == before

    assert main(["inspect", "--input", str(env / "d2"), "--as-of", DAY2.isoformat(), "--format", "json",
                 "--accept-removals", "01"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["publishable"] and result["provinces"]["01"]["accepted_removals"]["accepted_removals"] == [tax_code(1)]
    assert [r["value"] for r in result["rejects"] if r["province"] == "79"] == ["#REF!"]


def test_inspecting_before_any_release_creates_no_database(env, capsys):
    write_all(env / "d1")
    assert main(["inspect", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat()]) == 0
    assert not (env / "data" / "congkhai.db").exists()
