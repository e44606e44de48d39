"""A province's corrected report for a past date becomes corrections, published with the next
release, never a rewrite: what the list said stays answerable beside what we now know."""
import csv
from datetime import timedelta

import frictionless
import pytest
import sqlalchemy as sa

from congkhai.config import Paths
from congkhai.corrections import CorrectionError, record_correction
from congkhai.register import Register, views_of
from congkhai.register import Register
from congkhai.provinces import all_provinces
from congkhai.rules.corrections import known_state
from publisher.correct import correct
from publisher.errors import UsageError
from publisher.pipeline import publish

from .factory import AS_OF, tax_code, write_all

DAY2, DAY3 = AS_OF + timedelta(1), AS_OF + timedelta(2)
LISTED = {("01", 0): dict(arrears_bhxh=9_000_000, months_late=5)}
OTHERS = tuple(p.code for p in all_provinces() if p.code != "01")


def test_a_corrected_report_of_a_past_date_is_published_as_corrections(tmp_path, db_settings):
    hanoi = tax_code(1)
    for day in (AS_OF, DAY2):
        write_all(tmp_path / day.isoformat(), as_of=day, rows_per_province=1, overrides=LISTED)
        publish(tmp_path / day.isoformat(), day, db_settings)
    # Hanoi's office finds the payment it had matched to the wrong employer: it had paid on AS_OF.
    write_all(tmp_path / "fixed", as_of=AS_OF, rows_per_province=1, skip=OTHERS)
    result = correct(tmp_path / "fixed", AS_OF, db_settings)
    assert (len(result.recorded), result.provinces, result.unknown) == (1, ["01"], [])

    engine = sa.create_engine(db_settings["DATABASE_URL"])
    with engine.connect() as conn:
        [pending] = Register(conn).corrections(include_pending=True)
        assert Register(conn).corrections() == []  # not public until a release publishes it
    assert (pending["key"], pending["applies_from"], pending["applies_to"]) == (hanoi, AS_OF, DAY2)
    assert (pending["published_state"].status, pending["corrected_state"].status) == ("delinquent", "compliant")

    write_all(tmp_path / "d3", as_of=DAY3, rows_per_province=1, overrides=LISTED)
    publish(tmp_path / "d3", DAY3, db_settings)
    release = Paths(db_settings["CONGKHAI_DATA_DIR"]).release(DAY3.isoformat())
    with (release / "corrections.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["key"], row["published_status"], row["corrected_status"], row["recorded_in_release"]) == \
        (hanoi, "delinquent", "compliant", DAY3.isoformat())
    report = frictionless.validate(release / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])

    with engine.connect() as conn:
        said = Register(conn).states_by_key(AS_OF)[hanoi]           # what the list said on AS_OF: unchanged
        rows = Register(conn).corrections()
    engine.dispose()
    assert said.status == "delinquent"
    assert known_state(said, views_of(rows), AS_OF)[0].status == "compliant"             # what we now know
    assert known_state(said, views_of(rows), AS_OF, known_at=DAY2)[0].status == "delinquent"  # known then
    assert known_state(said, views_of(rows), DAY2)[0].status == "delinquent"             # DAY2's own report


def test_corrections_are_refused_with_the_field_that_is_wrong(tmp_path, db_settings):
    write_all(tmp_path / "d1", rows_per_province=1, overrides=LISTED)
    publish(tmp_path / "d1", AS_OF, db_settings)
    with pytest.raises(UsageError, match="--as-of: no release for 2026-11-20"):
        correct(tmp_path / "d1", AS_OF - timedelta(5), db_settings)
    engine = sa.create_engine(db_settings["DATABASE_URL"])
    with engine.begin() as conn:
        with pytest.raises(CorrectionError, match="^key:"):
            record_correction(conn, "0000000000", AS_OF, None, None, "mistake", "dispute 1")
        with pytest.raises(CorrectionError, match="^reason:"):
            record_correction(conn, tax_code(1), AS_OF, None, None, " ", "dispute 1")
        with pytest.raises(CorrectionError, match="^applies_to:"):
            record_correction(conn, tax_code(1), AS_OF, AS_OF, None, "mistake", "dispute 1")
        # An upheld dispute on the latest date: it ends where the next release's own report begins.
        record_correction(conn, tax_code(1), AS_OF, None, None, "listed by mistake", "dispute 1",
                          until_next_release=True)
    with engine.connect() as conn:
        [row] = Register(conn).corrections(include_pending=True)
    engine.dispose()
    assert (row["corrected_state"], row["applies_to"], row["until_next_release"]) == (None, None, True)
