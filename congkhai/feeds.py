"""RSS 2.0 and Atom feeds of what changed, so journalists and workers follow the lists without scraping.

Static feeds (all changes, newly listed, resolved, newly evading, one per province) are written into
each release directory; a single employer's feed is built on request by the portal, since a million
static files nobody reads would be absurd. Every feed holds a bounded window of recent entries.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from operator import attrgetter
from pathlib import Path
from typing import Callable, Iterable, NamedTuple
from urllib.parse import quote

from feedgen.feed import FeedGenerator

from .register.changes import ReleaseChange
from .provinces import all_provinces, by_code
from .rules.changes import NEW, REMOVED, Change, leaving_reason
from .text import format_int, format_vnd, slugify

PUBLISHER = "Bảo hiểm xã hội Việt Nam"
PUBLISHER_EN = "Vietnam Social Security"
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
FORMATS = ("rss", "atom")

STATUS_LABELS = {
    "compliant": "Đóng đầy đủ",
    "late": "Chậm đóng",
    "notice": "Đang thông báo trước khi công khai",
    "delinquent": "Nợ đọng",
    "evading": "Trốn đóng",
}
LEAVING_LABELS = {
    "paid": "đã nộp tiền nợ",
    "decision_annulled": "quyết định trốn đóng không còn hiệu lực",
    "no_longer_reported": "không còn trong báo cáo",
}


# One change of one employer in one release, with what a reader needs to recognise the employer:
# Register.recent_changes() gives them for past releases, feed_items_for() for a new one.
FeedItem = ReleaseChange


class EmployerRef(NamedTuple):
    """What files and feeds may say about an employer that this release no longer reports."""
    key: str
    name: str
    province_code: str
    public_tax_id: str
    sector: str = ""


def entry_id(item: FeedItem, base_url: str) -> str:
    """Stable across re-runs, and the same in every feed the entry appears in."""
    return f"{release_url(base_url, item.release_date.isoformat())}#{item.key}-{item.change.kind}"


_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]+")  # what quote() leaves as it is


def employer_url(base_url: str, key: str) -> str:
    """The employer's permanent portal page: the permalink in every file and feed."""
    path = key if _UNQUOTED.fullmatch(key) else quote(key, safe="")  # tax and unit codes are as they are
    return f"{base_url.rstrip('/')}/employers/{path}"


def release_url(base_url: str, release_id: str) -> str:
    return f"{base_url.rstrip('/')}/releases/{release_id}"


def static_feeds_url(base_url: str) -> str:
    """Where subscribers find the static feeds: always those of the current release."""
    return f"{base_url.rstrip('/')}/releases/current/feeds"


def feed_items_for(release_date: date, changes: Iterable[Change], records_by_key: dict,
                   removed: dict[str, EmployerRef] | None = None, *, published_at: datetime) -> list[FeedItem]:
    """FeedItems of one release published at `published_at`: names from its records (anything with
    key, name, province_code, public_tax_id, sector), or from `removed` for employers it no longer reports."""
    removed = removed or {}
    items = []
    for change in changes:
        ref = records_by_key.get(change.key) or removed.get(change.key)
        if ref is None:
            raise ValueError(f"change of {change.key!r} ({change.kind}): employer neither in the release "
                             "nor among the removed employers passed in")
        items.append(FeedItem(release_date, change, change.key, ref.name, ref.province_code, ref.public_tax_id,
                              ref.sector, published_at))
    return items


def recent(items: Iterable[FeedItem], as_of: date, max_days: int, max_entries: int | None = None) -> list[FeedItem]:
    """Newest first, no older than `max_days` before `as_of`, at most `max_entries`."""
    oldest = as_of - timedelta(days=max_days)
    kept = [item for item in items if oldest <= item.release_date <= as_of]
    kept.sort(key=lambda item: (-item.release_date.toordinal(), item.key, item.change.kind))
    return kept if max_entries is None else kept[:max_entries]


def _in_vietnam(moment: datetime) -> datetime:
    """A stored moment in Vietnam's time; one without a zone is UTC (as SQLite gives it back)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(VIETNAM_TIME)


def _province_name(code: str) -> str:
    province = by_code().get(code)
    return province.name if province else code


def _vi_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def headline(item: FeedItem) -> str:
    """What happened, in a few Vietnamese words, for the entry title."""
    change = item.change
    before, after = change.before, change.after
    if change.newly_evading:
        return "bị kết luận trốn đóng"
    if change.newly_listed:
        return "vào danh sách nợ đọng"
    if change.resolved:
        return f"ra khỏi danh sách công khai ({LEAVING_LABELS[leaving_reason(before, after)]})"
    if change.kind == NEW:
        return f"lần đầu được báo cáo: {STATUS_LABELS[after.status].lower()}"
    if change.kind == REMOVED:
        return "không còn trong báo cáo"
    if before.status != after.status:
        return f"chuyển từ {STATUS_LABELS[before.status].lower()} sang {STATUS_LABELS[after.status].lower()}"
    delta = change.arrears_delta
    if delta > 0:
        return f"nợ tăng {format_vnd(delta)}"
    if delta < 0:
        return f"nợ giảm {format_vnd(-delta)}"
    if before.interest != after.interest:
        return "thay đổi lãi chậm đóng"
    if _parts(before) != _parts(after):
        return "thay đổi số nợ theo quỹ"
    return "thay đổi thông tin xử lý"


_parts = attrgetter("arrears_bhxh", "arrears_bhyt", "arrears_bhtn", "arrears_bhtnld")


def _before_after(label: str, before, after, show) -> str | None:
    if before == after:
        return f"{label}: {show(after)}." if after not in (None, "", 0) else None
    return f"{label}: {show(before) if before is not None else '—'} → {show(after) if after is not None else '—'}."


def summary(item: FeedItem) -> str:
    """Plain Vietnamese summary with every amount as '1.234.567 ₫'."""
    change = item.change
    before, after = change.before, change.after
    parts = [f"Mã số thuế: {item.public_tax_id}. Tỉnh, thành phố: {_province_name(item.province_code)}. "
             f"Kỳ công bố ngày {_vi_date(item.release_date)}."]
    get = (lambda state, name: getattr(state, name) if state else None)
    lines = [
        _before_after("Tình trạng", get(before, "status"), get(after, "status"), lambda s: STATUS_LABELS[s]),
        _before_after("Tổng nợ", get(before, "arrears_total"), get(after, "arrears_total"), format_vnd),
        # Interest stands beside the arrears, never in them; funds are left out, so an unknown one never reads 0.
        _before_after("Lãi chậm đóng", get(before, "interest"), get(after, "interest"), format_vnd),
        _before_after("Số tháng chậm đóng", get(before, "months_late"), get(after, "months_late"), format_int),
        _before_after("Quyết định trốn đóng", get(before, "evasion_decision"), get(after, "evasion_decision"), str),
        _before_after("Tình trạng xử lý", get(before, "enforcement_stage"), get(after, "enforcement_stage"), str),
    ]
    parts += [line for line in lines if line]
    if change.arrears_delta and before and after:
        parts.append(f"Chênh lệch: {'+' if change.arrears_delta > 0 else ''}{format_vnd(change.arrears_delta)}.")
    return " ".join(parts)


def _new_feed(*, fmt: str, feed_id: str, title: str, subtitle: str, self_url: str, alternate_url: str,
              updated: datetime, base_url: str) -> FeedGenerator:
    """The feed document's head, shared by the change feeds and the corrections feed."""
    if fmt not in FORMATS:
        raise ValueError(f"feed format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=timezone.utc)
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    feed.subtitle(subtitle)
    feed.author({"name": PUBLISHER, "uri": base_url})
    feed.link(href=self_url, rel="self",
              type="application/rss+xml" if fmt == "rss" else "application/atom+xml")
    feed.link(href=alternate_url, rel="alternate", type="text/html")  # last: feedgen's RSS <link>
    feed.language("vi")
    feed.updated(updated)
    feed.lastBuildDate(updated)
    feed.rights(f"{PUBLISHER}. Dữ liệu công khai.")
    return feed


def correction_summary(published_status: str | None, published_arrears: int | None, corrected_status: str | None,
                       corrected_arrears: int | None, applies_from: date, applies_to: date | None, reason: str,
                       source: str, release_id: str) -> str:
    """One correction in a sentence (Vietnamese, like the rest of the feeds)."""
    was = (f"{STATUS_LABELS[published_status]}, nợ {format_vnd(published_arrears or 0)}" if published_status
           else "không có trong sổ")
    now = (f"{STATUS_LABELS[corrected_status]}, nợ {format_vnd(corrected_arrears or 0)}" if corrected_status
           else "lẽ ra không được công bố")
    until = f" đến trước ngày {applies_to:%d/%m/%Y}" if applies_to else ""
    return (f"Đã công bố: {was}. Đúng là: {now}. Áp dụng từ ngày {applies_from:%d/%m/%Y}{until}. "
            f"Lý do: {reason} ({source}). Ghi nhận trong bản công bố {release_id}.")


def render_corrections_feed(corrections: list[dict], release_times: dict[str, datetime], **head) -> bytes:
    """The corrections feed: one entry per correction (portal's correction_json rows), newest first,
    each dated when the release that published it was published (`release_times`: release id -> created_at)."""
    feed = _new_feed(**head)
    base_url = head["base_url"]
    for row in corrections:
        entry = feed.add_entry(order="append")
        when = _in_vietnam(release_times[row["recorded_in_release"]])
        entry_url = f"{base_url.rstrip('/')}/corrections#correction-{row['id']}"
        entry.id(entry_url)
        entry.guid(entry_url, permalink=True)
        entry.title(f"{row['name']}: đính chính số liệu từ ngày {row['applies_from']:%d/%m/%Y}")
        entry.link(href=employer_url(base_url, row["key"]), rel="alternate", type="text/html")
        published, corrected = row["published"] or {}, row["corrected"] or {}
        entry.summary(correction_summary(published.get("status"), published.get("arrears_total"),
                                         corrected.get("status"), corrected.get("arrears_total"),
                                         row["applies_from"], row["applies_to"], row["reason"], row["source"],
                                         row["recorded_in_release"]))
        entry.published(when)
        entry.updated(when)
        entry.category(term=f"province-{row['province_code']}", label=_province_name(row["province_code"]))
    return feed.rss_str(pretty=True) if head["fmt"] == "rss" else feed.atom_str(pretty=True)


def render_feed(items: list[FeedItem], *, fmt: str, feed_id: str, title: str, subtitle: str, self_url: str,
            alternate_url: str, updated: datetime, base_url: str) -> bytes:
    """One feed document, RSS 2.0 or Atom 1.0, entries in the order given, each dated when its release
    was published: midnight of the release date told readers a change was public hours before it was."""
    feed = _new_feed(fmt=fmt, feed_id=feed_id, title=title, subtitle=subtitle, self_url=self_url,
                     alternate_url=alternate_url, updated=updated, base_url=base_url)
    for item in items:
        if item.published_at is None:
            raise ValueError(f"change of {item.key!r} in the release of {item.release_date}: the release has no "
                             "publication time yet, so its feed entry cannot be dated")
        entry = feed.add_entry(order="append")
        when = _in_vietnam(item.published_at)
        entry.id(entry_id(item, base_url))
        entry.guid(entry_id(item, base_url), permalink=False)
        entry.title(f"{item.name}: {headline(item)}")
        entry.link(href=employer_url(base_url, item.key), rel="alternate", type="text/html")
        entry.summary(summary(item))
        entry.published(when)
        entry.updated(when)
        status = (item.change.after or item.change.before).status
        entry.category(term=status, label=STATUS_LABELS[status])
        entry.category(term=f"province-{item.province_code}", label=_province_name(item.province_code))
        if item.sector:
            entry.category(term=f"sector-{slugify(item.sector)}", label=item.sector)
    return feed.rss_str(pretty=True) if fmt == "rss" else feed.atom_str(pretty=True)


# name -> (title, description, which changes it holds)
STATIC_FEEDS: dict[str, tuple[str, str, Callable[[FeedItem], bool]]] = {
    "changes": ("Công khai: mọi thay đổi",
                "Mọi thay đổi về tình trạng đóng BHXH, BHYT, BHTN của các đơn vị sử dụng lao động qua từng kỳ công bố.",
                lambda item: True),
    "newly-listed": ("Công khai: đơn vị mới vào danh sách nợ đọng",
                     "Đơn vị mới vào danh sách chậm đóng kéo dài hoặc trốn đóng bảo hiểm.",
                     lambda item: item.change.newly_listed),
    "resolved": ("Công khai: đơn vị ra khỏi danh sách",
                 "Đơn vị ra khỏi danh sách nợ đọng, trốn đóng: đã nộp tiền, quyết định hết hiệu lực hoặc không còn báo cáo.",
                 lambda item: item.change.resolved),
    "newly-evading": ("Công khai: đơn vị mới bị kết luận trốn đóng",
                      "Đơn vị mới có quyết định thanh tra kết luận trốn đóng, không được tham gia đấu thầu dự án "
                      "sử dụng ngân sách nhà nước.",
                      lambda item: item.change.newly_evading),
}


def write_feeds(out_dir: Path, items: Iterable[FeedItem], *, as_of: date, updated: datetime,
                settings: dict) -> list[FeedItem]:
    """Write feeds/<name>.rss|.atom and feeds/provinces/<code>.rss|.atom under `out_dir`; returns the
    entries any of them shows, newest first (what the next release's feeds can still show of these)."""
    base_url = settings["CONGKHAI_BASE_URL"].rstrip("/")
    window = recent(items, as_of, max_days=int(settings["CONGKHAI_FEED_MAX_DAYS"]))
    max_entries = int(settings["CONGKHAI_FEED_MAX_ENTRIES"])
    feeds_url = static_feeds_url(base_url)
    targets = [(name, title, description, keep) for name, (title, description, keep) in STATIC_FEEDS.items()]
    for province in all_provinces():
        targets.append((f"provinces/{province.code}", f"Công khai: {province.name}",
                        f"Thay đổi về tình trạng đóng bảo hiểm của các đơn vị tại {province.name}.",
                        lambda item, code=province.code: item.province_code == code))
    shown: set[int] = set()
    for name, title, description, keep in targets:
        selected = [item for item in window if keep(item)][:max_entries]
        shown.update(map(id, selected))
        for fmt in FORMATS:
            path = out_dir / "feeds" / f"{name}.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(render_feed(selected, fmt=fmt, feed_id=f"{feeds_url}/{name}.atom", title=title,
                                     subtitle=description, self_url=f"{feeds_url}/{name}.{fmt}",
                                     alternate_url=base_url, updated=updated, base_url=base_url))
    return [item for item in window if id(item) in shown]

