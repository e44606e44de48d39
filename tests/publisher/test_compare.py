"""Each province's report against its last one: nobody leaves the list unless the report says they
paid or the operator confirmed it; a rejected row keeps its employer's last state, marked."""
import csv
import json
from datetime import timedelta

import pytest

from congkhai.config import Paths
from publisher.errors import VerificationError
from publisher.pipeline import publish

from .factory import AS_OF, tax_code, write_all

DAY2, DAY3 = AS_OF + timedelta(1), AS_OF + timedelta(2)
DELINQUENT = dict(arrears_bhxh=9_000_000, arrears_bhyt=1_000_000, months_late=4)
EVADING = dict(arrears_bhxh=5_000_000, months_late=6, evasion_decision="Số 12/QĐ-TTr ngày 05/03/2026")
ROWS = 25  # a province's rows: one rejected row stays under the policy's 5 % rejected share


def rows(path):
    with path.open(encoding="utf-8") as handle:
        return {r["key"]: r for r in csv.DictReader(handle)}


def day(tmp_path, settings, as_of, overrides=None, skip_rows=(), **options):
    """Publish every province's report of `as_of`; `skip_rows` leaves rows (code, i) out of it."""
    directory = tmp_path / as_of.isoformat()
    written = write_all(directory, as_of=as_of, rows_per_province=ROWS, overrides=overrides)
    if skip_rows:
        from .factory import title_lines, write_csv, write_xlsx
        for code in {c for c, _ in skip_rows}:
            kept = [r for i, r in enumerate(written[code]) if (code, i) not in skip_rows]
            for old in directory.glob(f"{code}*"):
                old.unlink()
            if code in ("01",):
                write_csv(directory, code, kept, titles=title_lines(code, as_of))
            else:
                write_xlsx(directory, code, kept, as_of=as_of)
    return publish(directory, as_of, settings, **options)


@pytest.fixture
def paths(settings):
    return Paths(settings["CONGKHAI_DATA_DIR"])


def test_a_listed_offender_missing_from_the_report_fails_its_province_naming_it(tmp_path, settings, paths):
    """Regression: an offender left out of one day's report was published as resolved."""
    day(tmp_path, settings, AS_OF, {("01", 3): DELINQUENT})
    with pytest.raises(VerificationError, match=rf"1 listed offender\(s\) of the report of 25/11/2026 are missing "
                                                rf"from this report of Thành phố Hà Nội .*: {tax_code(4)} .*"
                                                rf"--accept-removals 01"):
        day(tmp_path, settings, DAY2, skip_rows={("01", 3)})
    notes = (paths.rejects(DAY2.isoformat()) / "failed-run-rejects.csv").read_text(encoding="utf-8")
    assert tax_code(4) in notes and "Công ty TNHH Thử Nghiệm Số 4" in notes
    assert not paths.release(DAY2.isoformat()).exists()


def test_confirmed_removals_publish_and_are_recorded_in_the_release_and_run_log(tmp_path, settings, paths):
    day(tmp_path, settings, AS_OF, {("01", 3): DELINQUENT})
    day(tmp_path, settings, DAY2, skip_rows={("01", 3)}, accept_removals=["01"])
    assert tax_code(4) not in rows(paths.release(DAY2.isoformat()) / "employers.csv")
    release = json.loads((paths.release(DAY2.isoformat()) / "datapackage.json").read_text(encoding="utf-8"))
    confirmed = release["release"]["verification"]["accepted_removals"]["01"]
    assert confirmed["accepted_removals"] == [tax_code(4)] and confirmed["employers_before"] == ROWS
    log = [json.loads(line) for line in paths.run_log.read_text(encoding="utf-8").splitlines()]
    assert log[-1]["accept_removals"] == ["01"] and log[-1]["verification"]["accepted_removals"]["01"]


def test_an_offender_reported_again_after_a_gap_gets_no_new_notice(tmp_path, settings, paths):
    """Regression: offenders missing from one report came back with a fresh 15-day notice period."""
    day(tmp_path, settings, AS_OF, {("01", 3): DELINQUENT})
    day(tmp_path, settings, DAY2, skip_rows={("01", 3)}, accept_removals=["01"])
    day(tmp_path, settings, DAY3, {("01", 3): DELINQUENT})
    assert rows(paths.release(DAY3.isoformat()) / "employers.csv")[tax_code(4)]["status"] == "delinquent"


def test_a_rejected_row_keeps_an_evading_employers_state_marked_not_reported(tmp_path, settings, paths):
    """Regression: a typo in a decision date rejected the row and the employer left the evading list."""
    day(tmp_path, settings, AS_OF, {("01", 3): EVADING})
    typo = EVADING | {"evasion_decision": "Số 12/QĐ-TTr ngày 35/03/2026"}
    day(tmp_path, settings, DAY2, {("01", 3): typo})
    second = paths.release(DAY2.isoformat())
    carried = rows(second / "employers.csv")[tax_code(4)]
    assert (carried["status"], carried["not_reported_since"]) == ("evading", DAY2.isoformat())
    assert tax_code(4) in rows(second / "evading.csv")
    release = json.loads((second / "datapackage.json").read_text(encoding="utf-8"))
    assert release["release"]["verification"]["not_reported"] == [tax_code(4)]
    day(tmp_path, settings, DAY3, {("01", 3): EVADING})
    back = rows(paths.release(DAY3.isoformat()) / "employers.csv")[tax_code(4)]
    assert (back["status"], back["not_reported_since"]) == ("evading", "")
    changes = rows(second / "changes.csv") if (second / "changes.csv").exists() else {}
    assert all(c.get("change") != "removed" for c in changes.values())


def test_a_report_cut_short_fails_on_the_drop_against_the_last_one(tmp_path, settings):
    """Regression: a report cut to a fraction of its rows published, its employers removed."""
    day(tmp_path, settings, AS_OF)
    with pytest.raises(VerificationError, match=r"5 employers, 25 in the report of 25/11/2026: 80% fewer, more than "
                                                r"the policy's limit of 10%"):
        day(tmp_path, settings, DAY2, skip_rows={("79", i) for i in range(5, ROWS)})


def test_a_small_drop_of_compliant_employers_publishes(tmp_path, settings, paths):
    day(tmp_path, settings, AS_OF)
    day(tmp_path, settings, DAY2, skip_rows={("79", 0), ("79", 1)})
    assert len(rows(paths.release(DAY2.isoformat()) / "employers.csv")) == 34 * ROWS - 2


def test_a_failing_province_is_left_out_of_a_partial_release_keeping_its_employers(tmp_path, settings, paths):
    day(tmp_path, settings, AS_OF, {("01", 3): DELINQUENT})
    result = day(tmp_path, settings, DAY2, skip_rows={("01", 3)}, allow_partial=True)
    assert "01" in result.release.missing_provinces and "01" not in result.release.provinces
    assert tax_code(4) not in {c.key for c in result.release.changes}
