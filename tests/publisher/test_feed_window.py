"""The feeds' window carried from release to release (publisher/feed_window.py): the same feeds as
when every earlier change is read from the database, without reading it."""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import feedparser
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from congkhai.config import Paths, load_settings
from congkhai.feeds import FeedItem, write_feeds
from congkhai.register import Register
from congkhai.rules.changes import Change, State
from congkhai.signing import generate_key
from publisher import feed_window
from publisher.pipeline import publish

from .factory import AS_OF, write_all

PROVINCES = ("01", "79", "48")
STATES = (None, State("compliant", 0, 0, 0, 0, 0, None, None, None),
          State("delinquent", 5_000_000, 1_000_000, None, 6_000_000, 4, None, None, None,
                listing_on=date(2026, 10, 1)),
          State("evading", None, None, None, 9_000_000, 7, "QĐ 12/QĐ-BHXH", date(2026, 9, 30), "inspection"))


def item(day: date, key: str, province: str, before: State | None, after: State | None) -> FeedItem:
    kind = "new" if before is None else "removed" if after is None else "changed"
    return FeedItem(day, Change(key, kind, before, after), key, f"Công ty Đ {key}", province, key, "Xây dựng",
                    datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=11))


def day_items(draw, day: date) -> list[FeedItem]:
    keys = draw(st.sets(st.integers(0, 40), max_size=12))
    items = []
    for key in sorted(keys):
        before, after = draw(st.sampled_from(STATES)), draw(st.sampled_from(STATES))
        if before != after:
            items.append(item(day, f"{key:010d}", draw(st.sampled_from(PROVINCES)), before, after))
    return items


def feeds(directory):
    return {path.relative_to(directory): path.read_bytes() for path in sorted(directory.rglob("*.atom"))}


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), max_entries=st.integers(1, 4), max_days=st.integers(1, 6), gaps=st.lists(st.integers(1, 3),
                                                                                                   min_size=2, max_size=8))
def test_carried_feeds_equal_those_read_from_every_earlier_change(tmp_path_factory, settings, data, max_entries,
                                                                  max_days, gaps):
    """Every day's feeds from the window the day before left are byte for byte those written from the
    whole history, whatever the window's entries, days and the gaps between releases (`settings` is
    only read, so sharing it between examples is safe)."""
    settings = dict(settings, CONGKHAI_FEED_MAX_ENTRIES=max_entries, CONGKHAI_FEED_MAX_DAYS=max_days)
    root = tmp_path_factory.mktemp("feeds")
    history: list[FeedItem] = []
    carried: list[FeedItem] = []
    day = AS_OF
    for number, gap in enumerate(gaps):
        day += timedelta(days=gap)
        own = day_items(data.draw, day)
        whole, window = root / f"{number}-whole", root / f"{number}-carried"
        write_feeds(whole, history + own, as_of=day, updated=own[0].published_at if own else datetime(2026, 1, 1),
                    settings=settings)
        shown = write_feeds(window, carried + own, as_of=day,
                            updated=own[0].published_at if own else datetime(2026, 1, 1), settings=settings)
        assert feeds(window) == feeds(whole)
        feed_window.save(root / "window.json", shown, settings)
        carried = feed_window.load(root / "window.json", settings)
        assert carried == shown
        history += own


def test_a_window_for_fewer_entries_or_days_or_damaged_is_not_used(tmp_path, settings):
    path = tmp_path / "2026-11-25.json"
    shown = [item(AS_OF, "0100109106", "01", STATES[1], STATES[2])]
    feed_window.save(path, shown, dict(settings, CONGKHAI_FEED_MAX_ENTRIES=50, CONGKHAI_FEED_MAX_DAYS=30))
    assert feed_window.load(path, dict(settings, CONGKHAI_FEED_MAX_ENTRIES=50, CONGKHAI_FEED_MAX_DAYS=30)) == shown
    assert feed_window.load(path, dict(settings, CONGKHAI_FEED_MAX_ENTRIES=20, CONGKHAI_FEED_MAX_DAYS=7)) == shown
    assert feed_window.load(path, dict(settings, CONGKHAI_FEED_MAX_ENTRIES=51, CONGKHAI_FEED_MAX_DAYS=30)) is None
    assert feed_window.load(path, dict(settings, CONGKHAI_FEED_MAX_ENTRIES=50, CONGKHAI_FEED_MAX_DAYS=31)) is None
    path.write_bytes(b'{"format": 1, "max_entries": 50, "max_days": 30, "items": [["2026-11-')
    assert feed_window.load(path, settings) is None
    assert feed_window.load(tmp_path / "missing.json", settings) is None


def test_the_next_release_reads_its_feeds_window_not_the_database(tmp_path, settings, monkeypatch):
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    elsewhere = load_settings(env={}, CONGKHAI_DATA_DIR=str(tmp_path / "read-data"))
    generate_key(elsewhere["CONGKHAI_SIGNING_KEY"])
    write_all(tmp_path / "read-1", as_of=AS_OF, overrides={("01", 0): dict(arrears_bhxh=9_000_000, months_late=4)})
    publish(tmp_path / "read-1", AS_OF, elsewhere)
    Paths(tmp_path / "read-data").feed_window("2026-11-25").unlink()  # as a release of older code left it

    def refused(*args, **kwargs):
        raise AssertionError("the database was read for the feeds")

    day2 = AS_OF + timedelta(days=1)
    write_all(tmp_path / "2", as_of=day2, overrides={("01", 0): dict(arrears_bhxh=9_000_000, months_late=5)})
    reference = publish(tmp_path / "2", day2, elsewhere)
    publish(tmp_path / "read-1", AS_OF, settings)
    monkeypatch.setattr(Register, "recent_changes", refused)
    carried = publish(tmp_path / "2", day2, settings)
    entries = feedparser.parse((carried.release_dir / "feeds" / "changes.atom").read_bytes()).entries
    assert {entry.id.split("#")[0].rsplit("/", 1)[1] for entry in entries} == {"2026-11-25", "2026-11-26"}
    ours, theirs = feeds(carried.release_dir / "feeds"), feeds(reference.release_dir / "feeds")
    assert ours.keys() == theirs.keys() and len(ours) == 38
    for name in ours:  # the same entries; only the run's publication times differ
        assert [(e.id, e.title, e.summary) for e in feedparser.parse(ours[name]).entries] == \
               [(e.id, e.title, e.summary) for e in feedparser.parse(theirs[name]).entries], name
    assert sorted(p.name for p in paths.feed_windows.iterdir()) == ["2026-11-25.json", "2026-11-26.json"]


def test_saving_and_pruning_after_the_commit_never_fail_the_run(tmp_path, settings, caplog, monkeypatch):
    """Both run once the release is current: a disk that refuses is a warning, not a failed run."""
    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    directory = tmp_path / "feed-window"
    directory.mkdir()
    (directory / "2026-11-20.json").write_text("{}")
    shown = [item(AS_OF, "0100109106", "01", STATES[1], STATES[2])]
    monkeypatch.setattr(feed_window.os, "replace", refused)
    feed_window.save(directory / "2026-11-25.json", shown, settings)
    assert "not written (" in caplog.text
    assert [p.name for p in directory.iterdir()] == ["2026-11-20.json"]  # its temporary file removed
    monkeypatch.setattr(Path, "unlink", refused)
    feed_window.save(directory / "2026-11-25.json", shown, settings)  # even when that removal fails
    feed_window.prune(directory, {"2026-11-25"})
    assert "not pruned (" in caplog.text
    monkeypatch.undo()
    feed_window.prune(tmp_path / "missing", {"2026-11-25"})
