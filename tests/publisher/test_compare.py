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
    write_all(directory, as_of=as_of, rows_per_province=ROWS, overrides=overrides, omit=set(skip_rows))
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
    assert "1 listed offender(s) of the report of 25/11/2026 are missing" in notes  # the refusal itself too
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


def test_one_provinces_rows_under_another_provinces_file_name_fail_naming_both(tmp_path, settings, paths):
    """Regression: 79's rows saved as 01's report (without title lines) were published as Hà Nội's
    employers, and Hà Nội's own removed."""
    day(tmp_path, settings, AS_OF)
    directory = tmp_path / DAY2.isoformat()
    written = write_all(directory, as_of=DAY2, rows_per_province=ROWS)
    for old in [*directory.glob("01*"), *directory.glob("79*")]:
        old.unlink()
    from .factory import write_csv
    write_csv(directory, "01", written["79"])
    result = publish(directory, DAY2, settings, allow_partial=True)
    assert set(result.release.missing_provinces) == {"01", "79"}
    assert ("25 of 25 rows are employers the register knows in another province (79 (Thành phố Hồ Chí Minh)), not 01 "
            "(Thành phố Hà Nội)") in result.release.missing_provinces["01"]
    assert not any(c.kind == "removed" for c in result.release.changes)
    assert "rows are employers the register knows in another province" in result.rejects_csv.read_text(encoding="utf-8")


def test_a_new_employer_whose_unit_code_is_registered_in_another_province_is_refused(tmp_path, settings):
    day(tmp_path, settings, AS_OF)
    of_79 = sorted(r["unit_code"] for r in rows(Paths(settings["CONGKHAI_DATA_DIR"]).release(AS_OF.isoformat())
                                                / "employers.csv").values() if r["province_code"] == "79")
    moved = {("01", 0): {"unit_code": of_79[0], "tax_code": tax_code(5000)}}  # under a tax code new to the register
    with pytest.raises(VerificationError, match=rf"{tax_code(5000)} \(row \d+, 79 \(Thành phố Hồ Chí Minh\)\)"):
        day(tmp_path, settings, DAY2, moved, skip_rows={("79", 0)})


def test_addresses_naming_another_province_fail_the_report(tmp_path, settings):
    overrides = {("01", i): {"address": f"Số {i} đường Lê Lợi, phường Bến Thành, Thành phố Hồ Chí Minh"}
                 for i in range(ROWS)}
    with pytest.raises(VerificationError, match=r"25 of 25 addresses read name 79 \(Thành phố Hồ Chí Minh\), not 01"):
        day(tmp_path, settings, AS_OF, overrides)


def test_a_street_named_after_another_province_is_no_identity_problem(tmp_path, settings, paths):
    overrides = {("01", i): {"address": f"Số {i} đường Hải Phòng, Thành phố Hà Nội"} for i in range(3)}
    day(tmp_path, settings, AS_OF, overrides)
    assert paths.release(AS_OF.isoformat()).is_dir()


def test_one_employer_in_two_provinces_reports_is_a_conflict_never_a_merge(tmp_path, settings):
    twin = {("79", 0): {"tax_code": tax_code(1), "unit_code": "TA0001A", "name": "Công ty TNHH Thử Nghiệm Số 1",
                        "address": "Số 1 đường Lê Lợi"}}
    with pytest.raises(VerificationError, match=rf"employer {tax_code(1)} is also in the report of province 01"):
        day(tmp_path, settings, AS_OF, twin)


def test_a_province_the_policy_lets_report_without_totals_is_published_and_the_release_says_so(tmp_path, settings,
                                                                                              paths):
    from congkhai.config import DATASETS_DIR

    policy = tmp_path / "policy.toml"
    policy.write_text((DATASETS_DIR / "policy.toml").read_text(encoding="utf-8")
                      .replace("totals_optional = []", 'totals_optional = ["79"]'), encoding="utf-8")
    directory = tmp_path / "d1"
    written = write_all(directory, as_of=AS_OF)
    for old in directory.glob("79*"):
        old.unlink()
    from .factory import title_lines, write_csv
    write_csv(directory, "79", written["79"], titles=title_lines("79", AS_OF), with_totals=False)
    publish(directory, AS_OF, settings | {"CONGKHAI_POLICY": str(policy)})
    release = json.loads((paths.release(AS_OF.isoformat()) / "datapackage.json").read_text(encoding="utf-8"))
    assert release["release"]["verification"]["without_control_totals"] == ["79"]
    with pytest.raises(VerificationError, match=r"79-bao-cao.csv: no 'Tổng cộng' row"):
        publish(directory, AS_OF, settings)  # under the default policy, the same report fails
