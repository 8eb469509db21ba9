"""What a CSAF provider lists: provider-metadata.json, changes.csv, index.txt and ROLIE feeds (CSAF §7.1).

This module decides which listings a source offers and, for every listed advisory, where it and
its hash and signature live — refusing entries that would leave their distribution. fetch.py
does the reading. Locations are URLs throughout; a local source uses `file:` URLs under its root.
"""

from __future__ import annotations

import csv
import io
import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import orjson

from vigil.sources.csaf.fetch import Fetcher, FetchError, NotFound, check_url, display, local_path

METADATA = "provider-metadata.json"
DIRECTORY_LISTINGS = ("changes.csv", "index.txt")
MAX_URL = 2000
"""sync_entry.url holds 2000 characters."""
MAX_STAMP = 60
"""sync_entry.changed holds 60."""
_SEGMENT = re.compile(r"^[A-Za-z0-9._~+=,@-]+$")


_Copy = tuple[str | None, str]
"""A local copy: (the provider's published directory URL, the copy's `file:` directory URL)."""


class SyncError(Exception):
    """The source itself cannot be read (unreachable, not a provider layout); the message is one line."""


class Refused(Exception):
    """A listed location vigil will not fetch; the message is the one-line reason."""


@dataclass(frozen=True, slots=True)
class Distribution:
    """One place that lists advisories."""

    kind: Literal["directory", "rolie"]
    """`directory` (changes.csv / index.txt) or `rolie` (a ROLIE feed)."""
    url: str
    """The directory URL (ending in `/`) or the feed URL."""
    refusal: str | None = None
    """Why it is not read (bad scheme, outside a local copy); other distributions still are."""


@dataclass(frozen=True, slots=True)
class Listed:
    """One advisory a listing names."""

    url: str
    """Its location; for a refused entry, the listing's URL and `#` and the entry as written."""
    changed: str | None
    """The provider's change stamp (changes.csv timestamp or ROLIE `updated`) verbatim; None if none."""
    hashes: tuple[tuple[str, str], ...] = ()
    """(`sha512`|`sha256`, location) of hash files to try in order; the first that exists is used."""
    signature: str | None = None
    """Location of the detached OpenPGP signature (`.asc`), when one may exist."""
    refusal: str | None = None
    """Why it is not fetched (escaping path, bad scheme); the rest of the listing still is."""


@dataclass(frozen=True, slots=True)
class Listing:
    """One read of a listing file."""

    url: str
    """The listing: `changes.csv`, `index.txt` or a ROLIE feed."""
    scope: str
    """URL prefix of everything it lists: its directory, or for an HTTP feed the feed's origin."""
    validator: str | None
    """ETag or Last-Modified of this read, for the next conditional request."""
    entries: tuple[Listed, ...] | None
    """What it lists; None when unchanged since the validator that was sent."""


def locate(fetcher: Fetcher, start: str, limit: int) -> tuple[Distribution, ...]:
    """The distributions of a source: a provider-metadata URL, a distribution directory, a local tree."""
    if not start.endswith("/"):
        return _from_metadata(fetcher, start, limit)
    root = local_path(start)
    if root is None:
        return (Distribution("directory", start),)
    if (root / METADATA).is_file():
        return _from_metadata(fetcher, start + METADATA, limit)
    if any((root / name).is_file() for name in DIRECTORY_LISTINGS):
        return (Distribution("directory", start),)
    feeds = tuple(Distribution("rolie", url) for url in _local_feeds(fetcher, root, limit))
    found = feeds or tuple(Distribution("directory", d.as_uri() + "/") for d in _distribution_dirs(root))
    if not found:
        raise SyncError(f"{root}: no {METADATA}, changes.csv, index.txt or ROLIE feed in it or below it")
    return found


def read_listing(fetcher: Fetcher, where: Distribution, validators: Mapping[str, str], limit: int) -> Listing:
    """Read one distribution's listing (conditionally, given a validator); FetchError when it cannot."""
    if where.kind == "rolie":
        return _read_feed(fetcher, where.url, validators, limit)
    for name in DIRECTORY_LISTINGS:  # changes.csv first: it also gives change stamps
        url = where.url + name
        try:
            got = fetcher.get(url, limit, validators.get(url))
        except NotFound:
            continue
        if got.content is None:
            return Listing(url, where.url, got.validator, None)
        rows = _changes_rows(got.content) if name == "changes.csv" else _index_rows(got.content)
        entries = tuple(_directory_entry(where.url, url, path, stamp) for path, stamp in rows)
        return Listing(url, where.url, got.validator, entries)
    raise NotFound(f"neither {' nor '.join(DIRECTORY_LISTINGS)} is there")


def relative_path(directory_url: str, entry: str) -> str:
    """Where a listed path lies below its directory, as `a/b.json`; Refused if it would leave it.

    CISA lists repository-rooted paths (`csaf_files/OT/white/2024/x.json` inside
    `csaf_files/OT/white/`): the longest overlap between the directory's trailing segments and the
    entry's leading ones is dropped. Plain relative paths (`2024/x.json`) have no overlap.
    """
    text = entry.strip()
    if "://" in text:
        if not text.startswith(directory_url):
            raise Refused("absolute URL outside the distribution directory")
        text = text[len(directory_url) :]
    rooted = text.startswith("/")
    segments = _checked_segments(text)
    base = [segment for segment in _url_path(directory_url).split("/") if segment]
    if rooted:  # `/x/y.json` is relative to the server root, so it must start with the directory
        if segments[: len(base)] != base:
            raise Refused("absolute path outside the distribution directory")
        segments = segments[len(base) :]
    else:
        overlap = next((k for k in range(min(len(base), len(segments)), 0, -1) if base[-k:] == segments[:k]), 0)
        segments = segments[overlap:]
    if not segments:
        raise Refused("names the distribution directory itself, not a document")
    return "/".join(segments)


def _checked_segments(path: str) -> list[str]:
    segments = [s for s in path.split("/") if s not in ("", ".")]
    for segment in segments:
        if segment == "..":
            raise Refused("'..' path segment: the entry would escape the distribution directory")
        if not _SEGMENT.match(segment):
            raise Refused(f"unexpected characters in path segment {_shown(segment)!r}")
    return segments


def _url_path(url: str) -> str:
    return unquote(urlsplit(url).path)


def _directory_entry(directory_url: str, listing_url: str, path: str, stamp: str | None) -> Listed:
    try:
        url = directory_url + relative_path(directory_url, path)
        if len(url) > MAX_URL - 8:  # leave room for `.sha512`
            raise Refused(f"URL longer than {MAX_URL - 8} characters")
    except Refused as error:
        return Listed(f"{listing_url}#{_shown(path)}"[:MAX_URL], stamp, refusal=str(error))
    hashes = (("sha512", url + ".sha512"), ("sha256", url + ".sha256"))
    return Listed(url, stamp, hashes, url + ".asc")


def _changes_rows(content: bytes) -> Iterator[tuple[str, str | None]]:
    """`path,timestamp` lines, quotes optional. Sorted by path at CISA, so every line is read."""
    try:
        for row in csv.reader(io.StringIO(content.decode("utf-8-sig", errors="replace"))):
            if row and row[0].strip():
                stamp = row[1].strip()[:MAX_STAMP] if len(row) > 1 and row[1].strip() else None
                yield row[0].strip(), stamp
    except csv.Error as error:
        raise FetchError(f"not a valid changes.csv: {error}") from None


def _index_rows(content: bytes) -> Iterator[tuple[str, str | None]]:
    for line in content.decode("utf-8-sig", errors="replace").splitlines():
        if line.strip():
            yield line.strip(), None


def _read_feed(fetcher: Fetcher, url: str, validators: Mapping[str, str], limit: int) -> Listing:
    got = fetcher.get(url, limit, validators.get(url))
    local = local_path(url) is not None
    folder = posixpath.dirname(url) + "/"
    scope = folder if local else _origin(url)
    if got.content is None:
        return Listing(url, scope, got.validator, None)
    feed = (_json_object(got.content) or {}).get("feed")
    if not isinstance(feed, dict) or not isinstance(feed.get("entry", []), list):
        raise FetchError("not a ROLIE feed (no /feed object with an entry list)")
    # A local copy of a feed still names the provider's URLs: map those under the feed's published
    # directory (its rel=self link) into the copy, and refuse the rest rather than go online.
    mapping = None
    if local:
        published = _links(feed, "self")
        mapping = (posixpath.dirname(published[0]) + "/" if published else None, folder)
    entries = tuple(_feed_entry(entry, i, url, mapping) for i, entry in enumerate(feed.get("entry", [])))
    return Listing(url, scope, got.validator, entries)


def _feed_entry(entry: Any, index: int, feed_url: str, mapping: _Copy | None) -> Listed:
    if not isinstance(entry, dict):
        return Listed(f"{feed_url}#entry-{index}", None, refusal="ROLIE entry is not an object")
    content = entry.get("content")
    src = content.get("src") if isinstance(content, dict) else None
    src = src if isinstance(src, str) else next(iter(_links(entry, "self")), None)
    stamp = entry.get("updated")
    stamp = stamp.strip()[:MAX_STAMP] if isinstance(stamp, str) else None
    if src is None:
        label = entry.get("id") if isinstance(entry.get("id"), str) else f"entry-{index}"
        return Listed(
            f"{feed_url}#{_shown(str(label))}", stamp, refusal="ROLIE entry has no content.src or rel=self link"
        )
    try:
        url = _placed(src, mapping)
        found = {href.rsplit(".", 1)[-1]: href for href in _links(entry, "hash")}
        hashes = tuple((kind, _placed(found[kind], mapping)) for kind in ("sha512", "sha256") if kind in found)
        signatures = _links(entry, "signature")
        signature = _placed(signatures[0], mapping) if signatures else None
    except (Refused, FetchError) as error:  # keyed under the feed, so its scope covers the retry
        return Listed(f"{feed_url}#{_shown(src)}"[:MAX_URL], stamp, refusal=str(error))
    return Listed(url, stamp, hashes, signature)


def _placed(url: str, mapping: _Copy | None) -> str:
    """A provider-given URL, checked, and mapped into a local copy when the source is local."""
    check_url(url)
    if len(url) > MAX_URL:
        raise Refused(f"URL longer than {MAX_URL} characters")
    if mapping is None:
        return url
    published, folder = mapping
    if published is None or not url.startswith(published):
        raise Refused(f"{url[:200]} is not under {published or 'a published directory'}, so not in this local copy")
    return folder + "/".join(_checked_segments(url[len(published) :])) + ("/" if url.endswith("/") else "")


def _links(obj: dict[str, Any], rel: str) -> list[str]:
    links = obj.get("link")
    return [
        link["href"]
        for link in (links if isinstance(links, list) else [])
        if isinstance(link, dict) and link.get("rel") == rel and isinstance(link.get("href"), str)
    ]


def _from_metadata(fetcher: Fetcher, url: str, limit: int) -> tuple[Distribution, ...]:
    try:
        content = fetcher.get(url, limit).content or b""
    except FetchError as error:
        raise SyncError(f"{display(url)}: cannot read the provider metadata: {error}") from None
    doc = _json_object(content)
    if doc is None or not ("distributions" in doc or "rolie" in doc):
        hint = "" if local_path(url) else " (a distribution directory URL must end in /)"
        raise SyncError(f"{display(url)}: not a CSAF {METADATA}: it lists no distributions{hint}")
    found: list[tuple[Literal["directory", "rolie"], str]] = []
    distributions = doc.get("distributions")
    # CSAF 2.0 drafts put `rolie` at the top level; the standard puts it in each distribution.
    for item in [*(distributions if isinstance(distributions, list) else []), doc]:
        if not isinstance(item, dict):
            continue
        directory = item.get("directory_url")
        if isinstance(directory, str):  # one listing per distribution: the directory is the cheaper read
            found.append(("directory", directory if directory.endswith("/") else directory + "/"))
            continue
        rolie = item.get("rolie")
        feeds = rolie.get("feeds") if isinstance(rolie, dict) else None
        for feed in feeds if isinstance(feeds, list) else []:
            if isinstance(feed, dict) and isinstance(feed.get("url"), str):
                found.append(("rolie", feed["url"]))
    if not found:
        raise SyncError(f"{display(url)}: lists no directory_url and no ROLIE feed")
    mapping = None
    if local_path(url) is not None:
        canonical = doc.get("canonical_url")
        published = posixpath.dirname(canonical) + "/" if isinstance(canonical, str) else None
        mapping = (published, posixpath.dirname(url) + "/")
    return tuple(_distribution(kind, where, mapping) for kind, where in dict.fromkeys(found))


def _distribution(kind: Literal["directory", "rolie"], url: str, mapping: _Copy | None) -> Distribution:
    try:
        return Distribution(kind, _placed(url, mapping))
    except (Refused, FetchError) as error:
        return Distribution(kind, url[:MAX_URL], refusal=str(error))


def _local_feeds(fetcher: Fetcher, root: Path, limit: int) -> list[str]:
    """Top-level JSON files of a local directory that are ROLIE feeds."""
    feeds = []
    for file in sorted(root.glob("*.json")):
        try:
            doc = _json_object(fetcher.get(file.as_uri(), limit).content or b"")
        except FetchError:
            continue
        if doc is not None and isinstance(doc.get("feed"), dict):
            feeds.append(file.as_uri())
    return feeds


def _distribution_dirs(root: Path) -> list[Path]:
    """Directories below `root` holding changes.csv or index.txt (not descending further into them)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):  # does not follow symlinked directories
        if any(name in filenames for name in DIRECTORY_LISTINGS):
            found.append(Path(dirpath))
            dirnames.clear()
        else:
            dirnames[:] = sorted(d for d in dirnames if d != ".git")
    return found


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _shown(text: str) -> str:
    """An entry as it can appear in a one-line message."""
    text = text[:200]
    return text if text.isprintable() else ascii(text)[1:-1]
