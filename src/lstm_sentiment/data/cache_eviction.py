"""The prepared-tensor cache's size cap and its eviction: which entries go, least recently used first.

Why apart from prepare.py: this manages folders on disk and knows nothing of what they hold; prepare.py writes and
reads the entries. Staging folders (an entry being written, renamed into place when whole) are evicted first when a
killed write left them, and never while another run may still be writing one.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path


def cache_limit_bytes() -> int:
    """The prepared-tensor cache's size cap: LSTM_SENTIMENT_CACHE_MAX_GB (default 4; an IMDb entry takes 40 MB to
    500 MB, the most with unlabelled reviews and whole-review scoring)."""
    try:
        return int(float(os.environ.get("LSTM_SENTIMENT_CACHE_MAX_GB", "4")) * 1e9)
    except ValueError:
        return int(4e9)


def entry_sizes(prepared: Path) -> dict[Path, int]:
    """Bytes per cache entry (staging folders of killed writes included: they are evicted first)."""
    if not prepared.is_dir():
        return {}
    return {entry: sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
            for entry in prepared.iterdir() if entry.is_dir()}


STAGING_PREFIX = ".tmp-"
# a staging folder untouched this long was left by a killed write; a younger one may be another run's live write
STALE_STAGING_SECONDS = 6 * 3600


def _is_live_staging(entry: Path, now: float) -> bool:
    return entry.name.startswith(STAGING_PREFIX) and now - entry.stat().st_mtime < STALE_STAGING_SECONDS


def evict_least_recently_used(prepared: Path, limit: int, keep: Path | None = None) -> list[Path]:
    """Delete the least recently used entries until the cache fits `limit` bytes (never `keep`, nor the staging
    folder of a write that may still be running: two runs preparing at once each write one)."""
    sizes = entry_sizes(prepared)
    total, evicted, now = sum(sizes.values()), [], time.time()
    by_age = sorted(sizes, key=lambda entry: (not entry.name.startswith(STAGING_PREFIX), entry.stat().st_mtime))
    for entry in by_age:
        if total <= limit:
            break
        if entry == keep or _is_live_staging(entry, now):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        total -= sizes[entry]
        evicted.append(entry)
    return evicted
