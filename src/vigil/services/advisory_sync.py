"""Use case: sync advisories from a CSAF provider (or a local copy of one), fetching only what changed.

Per source, sync_entry keeps every advisory URL's change stamp, HTTP validator and outcome, plus
one row per listing file (outcome `listing`) holding its validator. A listing's row is written
only after all of its entries were handled, so when a listing answers "not modified" every entry
of it is already recorded: a sync killed midway leaves nothing that the next sync would skip.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from vigil.services.advisory_import import ImportOutcome, ImportSummary, iter_import
from vigil.services.audit import system_actor
from vigil.services.store import Store
from vigil.sources.csaf.fetch import (
    Fetcher,
    FetchError,
    HttpFetcher,
    LocalFetcher,
    NotFound,
    check_url,
    display,
    is_loopback_url,
)
from vigil.sources.csaf.files import Candidate
from vigil.sources.csaf.provider import MAX_URL, Distribution, Listed, Listing, SyncError, locate, read_listing
from vigil.store import audit
from vigil.store.db import transaction
from vigil.store.sync_state import EntryState, finish_sync, load_state, record_entry

__all__ = ["SyncError", "SyncReport", "sync"]

LISTING = "listing"
"""sync_entry.outcome of a listing file's row (changes.csv, index.txt, ROLIE feed)."""
WORKERS = 4
"""Documents fetched in parallel while earlier ones are imported."""
SIDECAR_LIMIT = 1_000_000
"""Hash files and signatures are small; anything bigger is not one."""

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class SyncReport:
    """What one sync did."""

    source: str
    """The source as recorded in sync_source: the URL, or the resolved local directory."""
    summary: ImportSummary
    """Outcomes by status, including `unchanged` for entries not fetched again."""
    requests: int
    """HTTP requests sent, or local files read or checked."""
    documents_fetched: int
    """Advisory documents whose bytes were downloaded or read."""
    entries_seen: int
    """Distinct advisories the listings name (those of unmodified listings included)."""


@dataclass(frozen=True, slots=True)
class _Got:
    candidate: Candidate | None
    """None: not modified since the validator sent."""
    validator: str | None
    fetched: bool


def sync(
    store: Store,
    source: str,
    allow_private: bool = False,
    on_outcome: Callable[[ImportOutcome], None] | None = None,
) -> SyncReport:
    """Fetch what changed at `source` since the last sync and import it; SyncError if the source is unreadable.

    `source` is a provider-metadata.json URL, a distribution directory URL ending in `/`, or a local
    directory. Private addresses are refused unless `allow_private` or the source itself is local.
    """
    fetcher, start, location = _open(source, allow_private)
    try:
        run = _Run(store, fetcher, location, on_outcome)
        run.run(start)
    finally:
        fetcher.close()
    return SyncReport(location, run.summary, fetcher.requests, run.fetched, len(run.seen_entries))


def _open(source: str, allow_private: bool) -> tuple[Fetcher, str, str]:
    """(fetcher, start location, the source's sync_source.location)."""
    if len(source) > MAX_URL:
        raise SyncError(f"source is longer than {MAX_URL} characters")
    if "://" in source:
        try:
            check_url(source)
            local = is_loopback_url(source)
        except FetchError as error:
            raise SyncError(f"{source}: {error}") from None
        return HttpFetcher(allow_private or local), source, source
    path = Path(source).expanduser().resolve()
    if path.is_dir():
        return LocalFetcher(path), path.as_uri() + "/", str(path)
    if path.is_file():
        return LocalFetcher(path.parent), path.as_uri(), str(path)
    raise SyncError(f"{source}: no such directory, and not an http(s) URL")


class _Run:
    """The state of one sync: what the store knew before, what this run has seen."""

    def __init__(
        self, store: Store, fetcher: Fetcher, location: str, on_outcome: Callable[[ImportOutcome], None] | None
    ) -> None:
        self.store, self.fetcher, self.on_outcome = store, fetcher, on_outcome
        self.limit = store.settings.max_document_bytes
        self.summary = ImportSummary()
        self.fetched = 0
        self.seen: set[str] = set()
        self.seen_entries: set[str] = set()
        self.location = location
        self.source_id, self.rows = _load_state(store, location)

    def run(self, start: str) -> None:
        distributions = locate(self.fetcher, start, self.limit)
        validators = {url: r.validator for url, r in self.rows.items() if r.outcome == LISTING and r.validator}
        fresh: list[str] = []
        quiet: list[str] = []
        failures: list[ImportOutcome] = []
        for where in distributions:
            try:
                listing = self._read(where, validators)
            except FetchError as error:
                shown = where.url if where.refusal else display(where.url)  # a refused URL as the provider wrote it
                failures.append(ImportOutcome(shown, "rejected", f"cannot read this listing: {error}"))
                continue
            self.seen.add(listing.url)
            if listing.entries is None:
                quiet.append(listing.scope)
            else:
                self._sync_listing(listing)
                fresh.append(listing.scope)
        if len(failures) == len(distributions):
            first = failures[0]
            raise SyncError(f"{first.source}: {first.reason}")
        for failure in failures:
            self._emit(failure)
        self._report_unmodified(quiet)
        # Entries a fully read listing no longer names are forgotten, unless a listing failed to read.
        self._finish([] if failures else [url for url in self.rows if url not in self.seen and _under(url, fresh)])

    def _report_unmodified(self, scopes: list[str]) -> None:
        """Entries of listings that answered "not modified": an earlier, complete pass recorded them."""
        for url in sorted(self.rows):
            if self.rows[url].outcome != LISTING and url not in self.seen and _under(url, scopes):
                self.seen.add(url)
                self.seen_entries.add(url)
                self._emit(ImportOutcome(display(url), "unchanged", "listing not modified since the last sync"))

    def _finish(self, stale: list[str]) -> None:
        with transaction(self.store.sessions) as session:
            finish_sync(session, self.source_id, stale)
            # One entry per run; each document it stored has its own `advisory.import` entry already.
            detail = {
                "source": self.location,
                "outcomes": dict(sorted(self.summary.counts.items())),
                "requests": self.fetcher.requests,
                "documents_fetched": self.fetched,
                "entries_forgotten": len(stale),
            }
            audit.append(session, None, system_actor(), "advisory.sync", self.location, detail, datetime.now(UTC))

    def _read(self, where: Distribution, validators: dict[str, str]) -> Listing:
        if where.refusal:
            raise FetchError(where.refusal)
        listing = read_listing(self.fetcher, where, validators, self.limit)
        if listing.entries is None and any(
            r.outcome == "rejected" or (r.outcome != LISTING and r.changed is None)
            for url, r in self.rows.items()
            if url.startswith(listing.scope)
        ):
            # Retries and stamp-less entries need the listing itself (a feed's hash and signature links).
            listing = read_listing(self.fetcher, where, {}, self.limit)
        return listing

    def _sync_listing(self, listing: Listing) -> None:
        todo: list[tuple[Listed, str | None]] = []
        for entry in listing.entries or ():
            if entry.url in self.seen:
                continue
            self.seen.add(entry.url)
            self.seen_entries.add(entry.url)
            row = self.rows.get(entry.url)
            if entry.refusal:
                self._record(entry.url, entry.changed, None, "rejected")
                self._emit(ImportOutcome(display(entry.url), "rejected", entry.refusal))
                continue
            validator = None
            if row is not None and row.outcome != "rejected":
                if entry.changed is not None and entry.changed == row.changed:
                    self._emit(ImportOutcome(display(entry.url), "unchanged", "not changed since the last sync"))
                    continue
                validator = row.validator if entry.changed is None else None  # no stamp: ask the server
            todo.append((entry, validator))
        self._import(todo)
        self._record(listing.url, None, listing.validator, LISTING)

    def _import(self, todo: list[tuple[Listed, str | None]]) -> None:
        pending: deque[tuple[Listed, str | None]] = deque()
        aside: list[ImportOutcome] = []

        def candidates() -> Iterator[Candidate]:
            for (entry, _), got in _prefetch(todo, self._fetch, WORKERS):
                self.fetched += got.fetched
                if got.candidate is None:
                    aside.append(ImportOutcome(display(entry.url), "unchanged", "not modified since the last sync"))
                else:
                    pending.append((entry, got.validator))
                    yield got.candidate

        for outcome in iter_import(self.store, candidates()):
            entry, validator = pending.popleft()
            self._record(entry.url, entry.changed, validator, _recorded_outcome(outcome.status))
            for other in aside:
                self._emit(other)
            aside.clear()
            self._emit(outcome)
        for other in aside:
            self._emit(other)

    def _fetch(self, item: tuple[Listed, str | None]) -> _Got:
        """The document, then its hash (sha512, else sha256) and signature; runs on a worker thread."""
        entry, validator = item
        source = display(entry.url)
        try:
            document = self.fetcher.get(entry.url, self.limit, validator)
        except FetchError as error:
            return _Got(Candidate(source, None, refusal=f"cannot fetch it: {error}"), None, False)
        if document.content is None:
            return _Got(None, document.validator, False)
        sidecars: dict[str, bytes] = {}
        extra = [*entry.hashes, *([("asc", entry.signature)] if entry.signature else [])]
        for kind, url in extra:
            if kind != "asc" and any(k in sidecars for k in ("sha512", "sha256")):
                continue
            try:
                sidecars[kind] = self.fetcher.get(url, SIDECAR_LIMIT).content or b""
            except NotFound:
                continue  # an absent sibling: the importer records what was (not) checked
            except FetchError as error:
                refusal = f"cannot fetch {display(url)}: {error}"
                return _Got(Candidate(source, None, refusal=refusal), None, True)
        return _Got(Candidate(source, document.content, sidecars), document.validator, True)

    def _record(self, url: str, changed: str | None, validator: str | None, outcome: str) -> None:
        with transaction(self.store.sessions) as session:
            record_entry(session, self.source_id, url, EntryState(changed, validator, outcome))

    def _emit(self, outcome: ImportOutcome) -> None:
        self.summary.add(outcome)
        if self.on_outcome:
            self.on_outcome(outcome)


def _load_state(store: Store, location: str) -> tuple[int, dict[str, EntryState]]:
    with transaction(store.sessions) as session:
        return load_state(session, location)


def _recorded_outcome(status: str) -> str:
    if status in ("imported", "revision"):
        return "imported"
    return "unchanged" if status == "unchanged" else "rejected"


def _under(url: str, scopes: list[str]) -> bool:
    return any(url.startswith(scope) for scope in scopes)


def _prefetch(items: Iterable[T], work: Callable[[T], R], workers: int) -> Iterator[tuple[T, R]]:
    """`work(item)` for each item on worker threads, yielded in order, never far ahead of the consumer."""
    with ThreadPoolExecutor(workers, thread_name_prefix="vigil-sync") as pool:
        window: deque[tuple[T, Future[R]]] = deque()
        try:
            for item in items:
                window.append((item, pool.submit(work, item)))
                if len(window) >= 2 * workers:
                    first, future = window.popleft()
                    yield first, future.result()
            while window:
                first, future = window.popleft()
                yield first, future.result()
        finally:
            for _, future in window:
                future.cancel()
