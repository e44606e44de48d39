"""The 34 provinces and centrally-run cities (administrative map since 1 July 2025), from datasets/."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from .config import DATASETS_DIR
from .text import fold, slugify

PROVINCES_CSV = DATASETS_DIR / "provinces.csv"


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    name_en: str
    kind: str

    @property
    def short_name(self) -> str:
        """'Thành phố Hồ Chí Minh' -> 'Hồ Chí Minh', for titles and charts."""
        for prefix in ("Thành phố ", "Tỉnh "):
            if self.name.startswith(prefix):
                return self.name[len(prefix):]
        return self.name

    @property
    def slug(self) -> str:
        return slugify(self.short_name)


@lru_cache(maxsize=1)
def all_provinces() -> tuple[Province, ...]:
    with PROVINCES_CSV.open(encoding="utf-8", newline="") as handle:
        return tuple(Province(**row) for row in csv.DictReader(handle))


@lru_cache(maxsize=1)
def by_code() -> dict[str, Province]:
    """Code -> province; one shared dict (callers read it, never change it)."""
    return {p.code: p for p in all_provinces()}


def find_province(text: str) -> Province | None:
    """The province named in free text, e.g. a report's title line 'BẢO HIỂM XÃ HỘI TỈNH ĐỒNG NAI'."""
    folded = " " + " ".join(fold(text).replace(".", " ").split()) + " "
    best = None
    for province in all_provinces():
        needle = " " + fold(province.short_name) + " "
        if needle in folded and (best is None or len(province.short_name) > len(best.short_name)):
            best = province
    return best
