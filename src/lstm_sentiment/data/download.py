"""Fetch the official archive into the cache: progress bar, resume after a broken transfer, checksum check.

Hand-written on urllib rather than pooch because pooch restarts interrupted downloads from zero; an 84 MB
archive on a flaky link should resume from where it stopped (HTTP Range).
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import UserError

OFFICIAL_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
OFFICIAL_SIZE = 84_125_825
OFFICIAL_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
OFFICIAL_MD5 = "7c2ac02c03563afcf9b574c7e56c153a"
# The Stanford Sentiment Treebank's official zip (789,539 bytes)
SST_URL = "https://nlp.stanford.edu/sentiment/trainDevTestTrees_PTB.zip"
SST_SHA256 = "5c613a4f673fc74097d523a2c83f38e0cc462984d847b82c7aaf36b01cbbbfcc"
DATASETS = {"imdb": (OFFICIAL_URL, OFFICIAL_SHA256), "sst": (SST_URL, SST_SHA256)}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, part: Path, progress: bool, timeout: float) -> None:
    """Append to `part` from its current size; restart from zero if the server ignores the Range request."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # range past the end: the partial file is complete or wrong; restart
            part.unlink()
            return _fetch(url, part, progress, timeout)
        raise
    with response:
        if offset and response.status != 206:
            offset = 0  # the server sent the whole file
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length else None
        mode = "ab" if offset else "wb"
        with open(part, mode) as out, tqdm(total=total, initial=offset, unit="B", unit_scale=True,
                                           unit_divisor=1024, desc=part.name.removesuffix(".part"),
                                           disable=not progress) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))


def download(url: str = OFFICIAL_URL, dest_dir: Path | None = None, sha256: str | None = OFFICIAL_SHA256,
             progress: bool = True, timeout: float = 60.0) -> Path:
    """Download once into dest_dir; a checksum mismatch deletes the file and fetches it again, once."""
    from .sources import cache_dir

    dest_dir = Path(dest_dir) if dest_dir else cache_dir()
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create download folder {dest_dir}: {exc.strerror}") from None
    target = dest_dir / url.rsplit("/", 1)[-1]
    if target.exists() and (sha256 is None or sha256_of(target) == sha256):
        return target
    part = target.with_name(target.name + ".part")
    for attempt in (1, 2):
        try:
            _fetch(url, part, progress, timeout)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UserError(f"download of {url} failed ({reason}); run the same command again to resume") from None
        if sha256 is None or sha256_of(part) == sha256:
            part.replace(target)
            return target
        part.unlink()
        if attempt == 2:
            raise UserError(f"download of {url} does not match its sha256 checksum twice; file deleted")
    raise AssertionError("unreachable")
