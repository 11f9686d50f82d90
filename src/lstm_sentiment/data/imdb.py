"""The aclImdb layout, from its .tar.gz archive (streamed member by member, never extracted) or an extracted folder."""

from __future__ import annotations

import os
import re
import sys
import tarfile
import zlib
from pathlib import Path

from ..errors import UserError
from .corpus import MAX_REVIEW_BYTES, NEGATIVE, POSITIVE, UNLABELLED, Corpus, Reviews, decode_utf8

_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
# urls_pos.txt etc.: line k is the IMDb page of the movie that review k is about
_URLS = re.compile(r"(?:^|/)aclImdb/(train|test)/urls_(pos|neg|unsup)\.txt$")
_MOVIE = re.compile(r"title/(tt\d+)")


def _sorted_corpus(found: dict[tuple[str, str], list[tuple[int, str]]], source: str, include_unsup: bool,
                   movies: dict[tuple[str, str], list[str]] | None = None) -> Corpus:
    """Order reviews by split, label and numeric id so every reader gives the same sequence."""
    corpus = Corpus(Reviews(), Reviews(), Reviews(), source)
    movies = movies or {}
    for split in ("train", "test"):
        for folder, label in (("neg", NEGATIVE), ("pos", POSITIVE)):
            reviews = found.get((split, folder), [])
            if not reviews:
                raise UserError(f"{source}: wrong layout or empty split: no reviews in aclImdb/{split}/{folder}/")
            titles = movies.get((split, folder), [])
            for review_id, text in sorted(reviews):
                getattr(corpus, split).add(text, label, titles[review_id] if review_id < len(titles) else "")
    if include_unsup:
        for _, text in sorted(found.get(("train", "unsup"), [])):
            corpus.unsup.add(text, UNLABELLED)
    return corpus


def _movie_ids(raw: bytes) -> list[str]:
    """One IMDb title id per line of a urls_*.txt file ("" for a line without one)."""
    lines = raw.decode("utf-8", errors="replace").splitlines()
    return [match.group(1) if (match := _MOVIE.search(line)) else "" for line in lines]


def read_archive(path: Path, include_unsup: bool = False) -> Corpus:
    """Stream the .tar.gz member by member; nothing is written to disk and links are ignored."""
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    movies: dict[tuple[str, str], list[str]] = {}
    oversized = 0
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                archive.members.clear()  # streamed once: keeping every TarInfo costs ~450 bytes a member
                urls = _URLS.search(member.name)
                if urls and member.isfile() and member.size <= 64 * MAX_REVIEW_BYTES:
                    handle = archive.extractfile(member)
                    movies[urls.groups()] = _movie_ids(handle.read() if handle else b"")
                    continue
                match = _MEMBER.search(member.name)
                if not match or not member.isfile():
                    continue
                split, folder, review_id, _rating = match.groups()
                if folder == "unsup" and not include_unsup:
                    continue
                if member.size > MAX_REVIEW_BYTES:  # skipped unread: the header states the size
                    oversized += 1
                    continue
                handle = archive.extractfile(member)
                raw = handle.read(MAX_REVIEW_BYTES + 1) if handle else b""
                text = decode_utf8(raw, f"{path}:{member.name}")
                found.setdefault((split, folder), []).append((int(review_id), text))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        reason = " ".join(str(exc).split())  # tarfile lists every method it tried, one per line
        if reason.startswith("file could not be opened successfully"):
            reason = "not a tar archive (plain, gzip, bzip2 or xz)"
        raise UserError(f"{path}: archive is truncated or corrupt ({exc.__class__.__name__}: {reason})") from None
    corpus = _sorted_corpus(found, str(path), include_unsup, movies)
    corpus.skipped_rows = oversized
    if oversized:
        print(f"lstm-sentiment: skipped {oversized} archive member(s) over {MAX_REVIEW_BYTES:,} bytes in {path}",
              file=sys.stderr)
    return corpus


def read_folder(path: Path, include_unsup: bool = False) -> Corpus:
    root = path / "aclImdb" if (path / "aclImdb").is_dir() else path
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    movies: dict[tuple[str, str], list[str]] = {}
    for split in ("train", "test"):
        for folder in ("neg", "pos", "unsup"):
            urls = root / split / f"urls_{folder}.txt"
            if urls.is_file() and not urls.is_symlink():
                movies[(split, folder)] = _movie_ids(urls.read_bytes())
            if folder == "unsup" and (split == "test" or not include_unsup):
                continue
            directory = root / split / folder
            if not directory.is_dir():
                continue
            for entry in os.scandir(directory):
                match = re.fullmatch(r"(\d+)_(\d+)\.txt", entry.name)
                if not match or not entry.is_file(follow_symlinks=False):
                    continue
                if entry.stat(follow_symlinks=False).st_size > MAX_REVIEW_BYTES:
                    continue
                text = decode_utf8(Path(entry.path).read_bytes(), entry.path)
                found.setdefault((split, folder), []).append((int(match.group(1)), text))
    return _sorted_corpus(found, str(path), include_unsup, movies)
