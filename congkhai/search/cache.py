"""A cache bounded in bytes, for the numpy arrays an open index computes (postings, filter masks,
matches) and shares between a worker's threads."""
from __future__ import annotations

import threading
from collections import OrderedDict


class _LRU:
    """Least-recently-used cache of numpy values, bounded by their total size in bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.bytes, self.items, self.lock = max_bytes, 0, OrderedDict(), threading.Lock()

    @staticmethod
    def _size(value) -> int:
        return sum(part.nbytes for part in (value if isinstance(value, tuple) else (value,)))

    def get(self, key, compute):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = compute()
        with self.lock:
            if key not in self.items:
                self.items[key] = value
                self.bytes += self._size(value)
            while self.bytes > self.max_bytes and len(self.items) > 1:
                self.bytes -= self._size(self.items.popitem(last=False)[1])
        return value
