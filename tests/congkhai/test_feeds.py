from dataclasses import replace
from datetime import datetime, timedelta, timezone

import feedparser
import pytest
from lxml import etree

from congkhai.provinces import all_provinces
from congkhai.text import nfc
from congkhai.feeds import employer_url, feed_items_for, headline, recent, render_feed, summary, write_feeds

from tests.publisher.release_sample import (AS_OF, BIG, CREATED, NFD_NAME, REMOVED, TOTAL_ONLY, WITH_INTEREST,
                                             built_release)

ATOM = "{http://www.w3.org/2005/Atom}"


def one_feed(items, key: str, name: str, settings: dict, *, updated: datetime, fmt: str = "atom") -> bytes:
    """A feed of one employer's changes, as the static feeds are rendered."""
    base = settings["CONGKHAI_BASE_URL"]
    selected = recent((item for item in items if item.key == key), AS_OF, max_days=90)
    return render_feed(selected, fmt=fmt, feed_id=f"{base}/employers/{key}.atom", title=f"Công khai: {name}",
                       subtitle=name, self_url=f"{base}/employers/{key}.{fmt}",
                       alternate_url=employer_url(base, key), updated=updated, base_url=base)


def items_of(built, release_date=None):
    refs = {record.key: record for record in built.records}
    return feed_items_for(release_date or built.as_of, built.changes, refs, {REMOVED.key: REMOVED},
                          published_at=built.created_at)


@pytest.fixture
def items():
    return items_of(built_release())


@pytest.fixture
def feeds_dir(tmp_path, items, settings):
    write_feeds(tmp_path, items, as_of=AS_OF, updated=CREATED, settings=settings)
    return tmp_path / "feeds"


def check_atom(data: bytes, self_url: str) -> list:
    """The elements Atom 1.0 (RFC 4287) requires, and unique entry ids."""
    root = etree.fromstring(data)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}").text
    assert root.find(f"{ATOM}author/{ATOM}name").text
    assert [link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"] == [self_url]
    entries = root.findall(f"{ATOM}entry")
    ids = [entry.find(f"{ATOM}id").text for entry in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        for name in ("id", "title", "updated", "summary"):
            assert entry.find(f"{ATOM}{name}").text, name
        assert entry.find(f"{ATOM}link").get("href").startswith("http")
    return entries


def check_rss(data: bytes, self_url: str) -> list:
    """The elements RSS 2.0 requires of a channel and its items, and unique guids."""
    root = etree.fromstring(data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for name in ("title", "link", "description", "lastBuildDate"):
        assert channel.find(name).text
    assert not channel.find("link").text.endswith((".rss", ".atom"))
    assert channel.find(f"{ATOM}link").get("href") == self_url
    items = channel.findall("item")
    guids = [item.find("guid").text for item in items]
    assert len(guids) == len(set(guids))
    for item in items:
        assert item.find("title").text and item.find("link").text and item.find("pubDate").text
        assert item.find("guid").get("isPermaLink") == "false"
    return items


def test_every_static_feed_parses_and_is_valid(feeds_dir, settings):
    paths = sorted(feeds_dir.rglob("*.*"))
    assert len(paths) == 2 * (4 + len(all_provinces()))
    feeds_url = settings["CONGKHAI_BASE_URL"] + "/releases/current/feeds/"
    for path in paths:
        data = path.read_bytes()
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        self_url = feeds_url + path.relative_to(feeds_dir).as_posix()
        (check_rss if path.suffix == ".rss" else check_atom)(data, self_url)


def keys_in(path):
    return [entry.link.rsplit("/", 1)[1] for entry in feedparser.parse(path.read_bytes()).entries]


def test_each_feed_holds_its_own_changes(feeds_dir):
    assert sorted(keys_in(feeds_dir / "changes.atom")) == sorted(
        ["0200000085", "0301234562", "0312456782", "0700000044", "0800000055", "0900000066", TOTAL_ONLY, WITH_INTEREST])
    assert keys_in(feeds_dir / "newly-listed.rss") == ["0700000044"]
    assert keys_in(feeds_dir / "newly-evading.atom") == ["0301234562"]
    assert keys_in(feeds_dir / "resolved.atom") == ["0200000085", "0900000066"]
    assert sorted(keys_in(feeds_dir / "provinces" / "79.atom")) == ["0301234562", "0312456782", "0800000055"]
    assert keys_in(feeds_dir / "provinces" / "04.rss") == []


def test_entries_have_permalinks_stable_ids_dates_and_vietnamese_summaries(feeds_dir, settings):
    base = settings["CONGKHAI_BASE_URL"]
    atom = {e.link: e for e in feedparser.parse((feeds_dir / "changes.atom").read_bytes()).entries}
    rss = {e.link: e for e in feedparser.parse((feeds_dir / "changes.rss").read_bytes()).entries}
    entry = atom[employer_url(base, "0700000044")]
    assert entry.id == f"{base}/releases/2026-11-25#0700000044-status_changed"
    assert rss[entry.link].id == entry.id
    assert entry.published == entry.updated == "2026-11-25T18:00:00+07:00"  # when the release was published
    assert entry.title == "đđđ ĐĐĐ Công ty Đông Đô: vào danh sách nợ đọng"
    assert "Tình trạng: Chậm đóng → Nợ đọng." in entry.summary
    assert "Tổng nợ: 125.000.000\u00a0₫." in entry.summary
    assert "Số tháng chậm đóng: 2 → 12." in entry.summary
    arrears = atom[employer_url(base, "0312456782")]
    assert "Tổng nợ: 8.000.000\u00a0₫ → 9.000.000\u00a0₫." in arrears.summary and "Chênh lệch: +1.000.000\u00a0₫." in arrears.summary
    assert arrears.title.endswith("nợ tăng 1.000.000\u00a0₫")
    removed = atom[employer_url(base, REMOVED.key)]
    assert "không còn trong báo cáo" in removed.title
    assert {tag.term for tag in removed.tags} >= {"delinquent", "province-01", "sector-det-may"}


def test_interest_is_told_as_interest_and_an_unknown_fund_never_as_0(feeds_dir, settings):
    base = settings["CONGKHAI_BASE_URL"]
    atom = {e.link: e for e in feedparser.parse((feeds_dir / "changes.atom").read_bytes()).entries}
    interest = atom[employer_url(base, WITH_INTEREST)]
    assert interest.title.endswith(": thay đổi lãi chậm đóng")                # not "enforcement data changed"
    assert "Lãi chậm đóng: 3.000.000\u00a0₫ → 3.500.000\u00a0₫." in interest.summary
    assert "Tổng nợ: 50.000.000\u00a0₫." in interest.summary                  # the total left as it was
    total_only = atom[employer_url(base, TOTAL_ONLY)]
    assert total_only.title.endswith("nợ tăng 100.000.000\u00a0₫")
    assert " 0\u00a0₫" not in total_only.summary and "Lãi" not in total_only.summary


def test_a_report_that_splits_a_total_it_gave_alone_is_a_change_by_fund(items):
    item = next(item for item in items if item.key == TOTAL_ONLY)
    before = item.change.after
    split = before._replace(arrears_bhxh=1_200_000_000, arrears_bhyt=200_000_000, arrears_bhtn=100_000_000)
    assert headline(replace(item, change=replace(item.change, before=before, after=split))) == "thay đổi số nợ theo quỹ"


def test_entries_are_dated_when_their_release_was_published_not_at_midnight(items, settings):
    """Regression: every entry was dated 00:00 of its release date, so a reader could not order a
    release published late at night against the next morning's, nor see when a change became public."""
    late = datetime(2026, 11, 24, 22, 47, 5, tzinfo=timezone.utc)  # 05:47 on the 25th in Vietnam
    naive = datetime(2026, 11, 23, 11, 30)  # as SQLite gives a stored time back: UTC without its zone
    history = ([replace(item, published_at=late) for item in items]
               + [replace(item, release_date=AS_OF - timedelta(days=2), published_at=naive) for item in items])
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(one_feed(history, "0700000044", "Đông Đô", settings, updated=late, fmt=fmt))
        moments = [datetime(*entry.published_parsed[:6], tzinfo=timezone.utc) for entry in parsed.entries]
        assert moments == [late, naive.replace(tzinfo=timezone.utc)], fmt
        if fmt == "atom":
            assert [entry.published for entry in parsed.entries] == [entry.updated for entry in parsed.entries] == [
                "2026-11-25T05:47:05+07:00", "2026-11-23T18:30:00+07:00"]


def test_an_entry_without_its_release_time_is_refused(items, settings):
    with pytest.raises(ValueError, match="no publication time"):
        one_feed([replace(items[0], published_at=None)], items[0].key, "X", settings, updated=CREATED)


def test_vietnamese_text_round_trips_through_feeds(feeds_dir):
    for name in ("changes.atom", "changes.rss", "newly-evading.rss"):
        parsed = feedparser.parse((feeds_dir / name).read_bytes())
        titles = [entry.title for entry in parsed.entries]
        assert any(title.startswith(nfc(NFD_NAME) + ":") for title in titles), name
        assert parsed.feed.title.startswith("Công khai")


def test_amounts_are_formatted_with_dots_and_dong_sign(items):
    big = next(item for item in items if item.key == "0700000044")
    assert "125.000.000\u00a0₫" in summary(big)
    huge = replace(big, change=replace(big.change, after=big.change.after._replace(arrears_total=BIG)))
    assert "3.456.789.012\u00a0₫" in summary(huge)


def test_window_is_bounded_by_entries_and_days(items):
    older = [replace(item, release_date=AS_OF - timedelta(days=days)) for days in (1, 30, 91) for item in items]
    everything = items + older
    assert len(recent(everything, AS_OF, max_days=90)) == 3 * len(items)
    newest = recent(everything, AS_OF, max_days=90, max_entries=4)
    assert len(newest) == 4 and {item.release_date for item in newest} == {AS_OF}
    ordered = recent(everything, AS_OF, max_days=365)
    assert [item.release_date for item in ordered] == sorted((item.release_date for item in ordered), reverse=True)


def test_static_feeds_respect_the_settings(tmp_path, items, settings):
    older = [replace(item, release_date=AS_OF - timedelta(days=10)) for item in items]
    settings = dict(settings, CONGKHAI_FEED_MAX_ENTRIES=3, CONGKHAI_FEED_MAX_DAYS=5)
    write_feeds(tmp_path, items + older, as_of=AS_OF, updated=CREATED, settings=settings)
    entries = feedparser.parse((tmp_path / "feeds" / "changes.atom").read_bytes()).entries
    assert len(entries) == 3 and all(entry.published.startswith("2026-11-25") for entry in entries)


def test_one_employers_feed_in_both_formats(items, settings):
    base = settings["CONGKHAI_BASE_URL"]
    history = items + [replace(item, release_date=AS_OF - timedelta(days=7)) for item in items]
    for fmt, check in (("atom", check_atom), ("rss", check_rss)):
        data = one_feed(history, "0700000044", "đđđ ĐĐĐ Công ty Đông Đô", settings, updated=CREATED, fmt=fmt)
        parsed = feedparser.parse(data)
        assert not parsed.bozo
        entries = check(data, f"{base}/employers/0700000044.{fmt}")
        assert len(entries) == 2
        assert {entry.link for entry in parsed.entries} == {f"{base}/employers/0700000044"}
        assert parsed.feed.title == "Công khai: đđđ ĐĐĐ Công ty Đông Đô"


def test_a_feed_without_changes_is_still_valid(settings):
    data = one_feed([], "HKD0003", "Hộ kinh doanh Đặng Thị Đào", settings, updated=CREATED)
    assert not feedparser.parse(data).bozo
    assert check_atom(data, settings["CONGKHAI_BASE_URL"] + "/employers/HKD0003.atom") == []


def test_unknown_format_is_refused(settings):
    with pytest.raises(ValueError, match="rss, atom"):
        one_feed([], "X", "X", settings, updated=CREATED, fmt="json")


def test_change_of_an_unnamed_employer_is_an_error():
    built = built_release()
    with pytest.raises(ValueError, match=REMOVED.key):
        feed_items_for(AS_OF, built.changes, {record.key: record for record in built.records}, published_at=CREATED)


def test_employer_url_quotes_only_what_needs_it():
    assert employer_url("https://x.vn/", "0101234567-001") == "https://x.vn/employers/0101234567-001"
    assert employer_url("https://x.vn", "HK/01 Đ") == "https://x.vn/employers/HK%2F01%20%C4%90"
