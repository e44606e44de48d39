"""A report's title lines: the province they name (a regional office's list must name the file's
province) and the dates they give (as of, arrears worked out to, signed), checked against the run's
date. publisher.read calls `check_title` once it has found the header below them.
"""
from __future__ import annotations

import re
from datetime import date

from congkhai.provinces import by_code, find_province
from congkhai.text import fold

from .errors import Problem, ReportError
from .records import Report

# Title dates, matched in folded text (no diacritics, lower case): 25/11/2026, 25-11-2026,
# 25.11.2026, "25 tháng 11 năm 2026" or 2026-11-25, with one- or two-digit days and months.
_DATE = (r"(?:(\d{1,2})\s*(?:[/.-]|thang)\s*(\d{1,2})\s*(?:[/.-]|,?\s*nam)\s*(\d{4})"
         r"|(\d{4})-(\d{1,2})-(\d{1,2})\b)")
# The date the report is as of: "(Tính) đến (hết) ngày", "Thời điểm (báo cáo):", "Tại ngày".
_AS_OF_DATE = re.compile(r"\b(?:den(?:\s+het)?|thoi\s+diem(?:\s+bao\s+cao)?|tai)\s*(?:ngay)?\s*:?\s*" + _DATE)
# Any "ngày <date>": the as-of date when nothing introduces one, or, after a place and a comma
# ("Hà Nội, ngày 26 tháng 11 năm 2026"), the date the document was signed.
_DAY_DATE = re.compile(r"(,?)\s*\bngay\s*:?\s*" + _DATE)
# A date standing alone (a date cell, '2025-06-30' after 'Số liệu:'), used when nothing else dates the report.
_ANY_DATE = re.compile(_DATE)


def check_title(report: Report, titles: list[tuple[int, str]], province_code: str, fmt: str,
                 as_of: date | None) -> None:
    """The province and the date named above the header must be the file's; errors give their row.
    A regional office (BẢO HIỂM XÃ HỘI KHU VỰC II) issues the lists of several provinces: the
    province is then the one a title line names, and must be the file name's. The dates found are
    kept on the report: as of, payments counted to (a second "đến ngày"), signed."""
    source = report.source
    expected = by_code()[province_code]
    named = next(((row, found) for row, text in titles if (found := find_province(text))), None)
    if named is not None and named[1].code != province_code:
        raise ReportError(Problem(source, f"title names {named[1].name} but the file name says province "
                                          f"{province_code} ({expected.name})", line=named[0]))
    if named is None and fmt == "xlsx":
        raise ReportError(Problem(source, f"title lines do not name the province ({expected.name})",
                                  line=titles[0][0] if titles else 1))
    stated, earlier, signed = _title_dates(source, titles)
    report.dates = {key: day.isoformat() for key, day in (("as_of", stated and stated[1]),
                                                           ("arrears_to", earlier and earlier[1])) if day}
    if signed:
        report.dates["signed"] = signed[0][1].isoformat()
    if as_of is None:
        return
    if stated and stated[1] != as_of:
        raise ReportError(Problem(source, f"report is as of {stated[1]:%d/%m/%Y}, not the run's date {as_of:%d/%m/%Y}",
                                  line=stated[0]))
    for row, day in signed:
        if day < as_of:
            raise ReportError(Problem(source, f"the title is signed on {day:%d/%m/%Y}, before the report's date "
                                              f"{as_of:%d/%m/%Y}: a report cannot be signed before the day it is as of",
                                      line=row))


def _title_dates(source: str, titles: list[tuple[int, str]]):
    """(row, date) the title says the report is as of, if it says; (row, date) of an earlier
    introduced date, when the title gives two ("nợ đến ngày 30/6/2025, số đã nộp tính đến ngày
    05/7/2025": arrears worked out to one day, payments counted to a later one, which is the day
    the report is as of, since a payment made by then takes an employer off the list); and the
    (row, date) of each place-and-date signing line. A date introduced as the as-of date ("tính
    đến ngày") wins over a bare "ngày <date>", which wins over a date alone; a signing date is only
    a lower bound, since a report is often signed the day after its date."""
    introduced, bare, alone, signed = [], None, None, []
    for row, text in titles:
        folded = fold(text)
        introduced.extend((row, _title_date(source, row, m)) for m in _AS_OF_DATE.finditer(folded))
        for match in _DAY_DATE.finditer(folded):
            if match.group(1):
                signed.append((row, _title_date(source, row, match)))
            elif bare is None:
                bare = (row, _title_date(source, row, match))
        if alone is None and (match := _ANY_DATE.search(_DAY_DATE.sub(" ", _AS_OF_DATE.sub(" ", folded)))):
            alone = (row, _title_date(source, row, match))
    if not introduced:
        return bare or alone, None, signed
    stated = max(introduced[:2], key=lambda found: found[1])
    earlier = min(introduced[:2], key=lambda found: found[1])
    return stated, (earlier if earlier[1] != stated[1] else None), signed


def _title_date(source: str, row: int, match: re.Match) -> date:
    groups = match.groups()[-6:]
    day, month, year = (int(g) for g in groups[:3]) if groups[0] else (int(groups[5]), int(groups[4]), int(groups[3]))
    try:
        return date(year, month, day)
    except ValueError:
        raise ReportError(Problem(source, f"title date {day:02d}/{month:02d}/{year} is not a date", line=row)) from None

