"""A release published by mistake is withdrawn without deleting anything: its changes are corrected
in public, the release before it serves again, and the next release compares with that one."""
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from congkhai.config import Paths
from congkhai.register import Register
from congkhai.register import Register
from congkhai.release_format import verify_release
from publisher.archive import current_release_id
from publisher.cli import main
from publisher.errors import UsageError
from publisher.pipeline import publish
from publisher.withdraw import withdraw

from .factory import AS_OF, moment_on, tax_code, write_all

DAY2, DAY3 = AS_OF + timedelta(1), AS_OF + timedelta(2)
WRONG = {("01", 0): {"arrears_bhxh": 50_000_000, "months_late": 7,
                     "evasion_decision": "Số 9/QĐ-TTr ngày 01/11/2026"}}


def published(tmp_path, settings, day, overrides=None):
    write_all(tmp_path / day.isoformat(), as_of=day, overrides=overrides)
    return publish(tmp_path / day.isoformat(), day, settings, now=moment_on(day))


def test_a_withdrawn_release_is_corrected_in_public_and_the_one_before_serves_again(tmp_path, db_settings):
    paths = Paths(db_settings["CONGKHAI_DATA_DIR"])
    published(tmp_path, db_settings, AS_OF)
    published(tmp_path, db_settings, DAY2, WRONG)
    files = sorted(p.relative_to(paths.release(DAY2.isoformat())) for p in paths.release(DAY2.isoformat()).rglob("*"))

    done = withdraw(DAY2, "Hà Nội's report of another day was sent by mistake", db_settings)
    assert (done.release_id, done.back_to, done.corrections) == (DAY2.isoformat(), AS_OF.isoformat(), 1)

    engine = sa.create_engine(db_settings["DATABASE_URL"])
    with engine.connect() as conn:
        assert Register(conn).latest_release()["as_of"] == AS_OF
        assert [r["as_of"] for r in Register(conn).complete_releases()] == [AS_OF]
        [correction] = Register(conn).corrections()
    engine.dispose()
    assert correction["key"] == tax_code(1) and correction["recorded_in_release"] == DAY2.isoformat()
    assert correction["published_state"].status == "evading" and correction["corrected_state"].status == "compliant"
    assert "withdrawn: Hà Nội's report of another day was sent by mistake" in correction["reason"]

    assert current_release_id(paths.releases) == AS_OF.isoformat()
    index = json.loads((paths.releases / "index.json").read_text(encoding="utf-8"))
    entry = next(e for e in index["releases"] if e["id"] == DAY2.isoformat())
    assert index["current"] == AS_OF.isoformat() and "sent by mistake" in entry["withdrawn"]["reason"]
    kept = paths.release(DAY2.isoformat())  # never deleted, still verifiable
    assert sorted(p.relative_to(kept) for p in kept.rglob("*")) == files
    assert verify_release(kept, (kept / "signing-key.pub.pem").read_text(encoding="ascii")) == []

    third = published(tmp_path, db_settings, DAY3)
    assert third.release.previous_as_of == AS_OF and third.release.changes == []
    engine = sa.create_engine(db_settings["DATABASE_URL"])
    with engine.connect() as conn:
        [correction] = Register(conn).corrections()
    engine.dispose()
    assert correction["applies_to"] == DAY3  # from then on, the new release's own report speaks


def test_a_withdrawn_date_can_be_published_again_from_corrected_reports(tmp_path, settings):
    published(tmp_path, settings, AS_OF)
    published(tmp_path, settings, DAY2, WRONG)
    withdraw(DAY2, "wrong file", settings)
    again = published(tmp_path, settings, DAY2)  # the same date's right reports
    assert not again.unchanged and again.release.changes == []
    assert current_release_id(Paths(settings["CONGKHAI_DATA_DIR"]).releases) == DAY2.isoformat()


def test_the_release_after_a_withdrawal_counts_its_figures_afresh(tmp_path, settings):
    """A withdrawal rewinds the history but not the facts the withdrawn release changed (here an
    employer's sector): the next release counts its figures from the register rather than carry
    forward those of the release that serves again (publisher/store.py figures_for)."""
    moved = {("01", 1): {"sector": "Khai khoáng"}}
    published(tmp_path, settings, AS_OF)
    published(tmp_path, settings, DAY2, {**WRONG, **moved})
    withdraw(DAY2, "wrong file", settings)
    published(tmp_path, settings, DAY3, moved)
    engine = sa.create_engine(settings["DATABASE_URL"])
    with engine.connect() as conn:
        register = Register(conn)
        stored = register.stored_figures(DAY3.isoformat())
        counted = register.release_figures(DAY3, register.current_release().policy.inspection_min_months)
    engine.dispose()
    assert sorted(map(tuple, stored["facets"]["sector"])) == sorted(map(tuple, counted["facets"]["sector"]))
    assert ["compliant", "Khai khoáng", 1] in counted["facets"]["sector"]


def test_only_the_latest_release_can_be_withdrawn(tmp_path, settings):
    published(tmp_path, settings, AS_OF)
    published(tmp_path, settings, DAY2)
    with pytest.raises(UsageError, match=r"only the latest release can be withdrawn \(it is 2026-11-26\)"):
        withdraw(AS_OF, "wrong", settings)
    with pytest.raises(UsageError, match="--reason"):
        withdraw(DAY2, " ", settings)


def test_the_withdraw_command(tmp_path, settings, monkeypatch, capsys):
    for name, value in settings.items():
        monkeypatch.setenv(name, str(value))
    published(tmp_path, settings, AS_OF)
    published(tmp_path, settings, DAY2, WRONG)
    assert main(["withdraw", DAY2.isoformat(), "--reason", "wrong file"]) == 0
    assert "Release 2026-11-26 withdrawn: 1 correction(s) published; release 2026-11-25 serves again." in \
        capsys.readouterr().out
    assert main(["withdraw", DAY2.isoformat(), "--reason", "again"]) == 2


def test_after_withdrawing_a_release_dated_wrongly_the_right_earlier_date_can_be_published(tmp_path, settings):
    published(tmp_path, settings, AS_OF)
    published(tmp_path, settings, DAY3)  # the reports of the 26th, published as of the 27th by mistake
    withdraw(DAY3, "published under the wrong date", settings)
    right = published(tmp_path, settings, DAY2)
    assert right.release.previous_as_of == AS_OF
    assert current_release_id(Paths(settings["CONGKHAI_DATA_DIR"]).releases) == DAY2.isoformat()
