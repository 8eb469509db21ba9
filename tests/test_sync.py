"""`vigil advisories sync`: a real HTTP server on 127.0.0.1 that counts every request the sync makes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from conftest import corpus_dir
from vigil.config import load_settings
from vigil.services.advisory_import import ImportOutcome
from vigil.services.advisory_sync import SyncError, SyncReport, sync
from vigil.services.store import Store, open_store
from vigil.sources.csaf.fetch import HttpFetcher, UnsafeURL, allowed_addresses, check_url
from vigil.sources.csaf.provider import Refused, relative_path
from vigil.store import schema as t

WHITE = "csaf_files/OT/white"
SAMPLE_SIZE = 20


class _Server(ThreadingHTTPServer):
    hits: Counter[str]
    lock: threading.Lock


class _Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and Last-Modified / If-Modified-Since like a real server
    disable_nagle_algorithm = True  # else every response waits ~40 ms for a delayed ACK
    server: _Server

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.hits[urlsplit(self.path).path] += 1
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    """A directory served on 127.0.0.1, and what was asked of it."""

    root: Path
    base: str
    server: _Server

    @property
    def requests(self) -> int:
        return sum(self.server.hits.values())

    def hits(self, path: str) -> int:
        return self.server.hits[path]


@pytest.fixture
def serve() -> Iterator[Callable[[Path], Site]]:
    started: list[tuple[_Server, threading.Thread]] = []

    def start(root: Path) -> Site:
        server = _Server(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
        server.hits, server.lock = Counter(), threading.Lock()
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        return Site(root, f"http://127.0.0.1:{server.server_port}/", server)

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def copy_sample(root: Path, listings: bool = True) -> list[tuple[str, str]]:
    """Copy advisories with their .sha512/.asc from the corpus into `root` at CISA's paths.

    Returns their (repository-rooted path, timestamp), and writes index.txt and a changes.csv
    sorted by path, as CISA does, so that its timestamps are out of order.
    """
    corpus_white = corpus_dir() / WHITE
    lines = (corpus_white / "changes.csv").read_text().splitlines()
    # The six newest (ICSMA and ICSA of 2024, whose path order is not their time order) and a spread of years.
    picked = lines[:6] + lines[6 :: len(lines) // SAMPLE_SIZE][: SAMPLE_SIZE - 6]
    entries = [tuple(line.split(",")) for line in picked]
    entries.sort()
    assert [s for _, s in entries] != sorted(s for _, s in entries), "the sample must not be time-ordered"
    for path, _ in entries:
        relative = path.removeprefix(WHITE + "/")
        (root / WHITE / relative).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", ".sha512", ".asc"):
            shutil.copyfile(corpus_white / (relative + suffix), root / WHITE / (relative + suffix))
    if listings:
        (root / WHITE / "index.txt").write_text("".join(f"{p}\n" for p, _ in entries))
        (root / WHITE / "changes.csv").write_text("".join(f'"{p}","{s}"\n' for p, s in entries))
    return [(p, s) for p, s in entries]


def run_sync(store: Store, source: str, **kwargs: Any) -> tuple[SyncReport, list[ImportOutcome]]:
    outcomes: list[ImportOutcome] = []
    report = sync(store, source, on_outcome=outcomes.append, **kwargs)
    return report, outcomes


def rewrite(file: Path, content: bytes) -> None:
    """Replace a served file and move its mtime forward (Last-Modified has one-second resolution)."""
    file.write_bytes(content)
    later = time.time() + 5
    os.utime(file, (later, later))


def test_directory_sync_over_http_fetches_only_what_changed(store: Store, serve: Callable[[Path], Site], tmp_path):
    entries = copy_sample(tmp_path)
    site = serve(tmp_path)
    source = site.base + WHITE + "/"

    first, outcomes = run_sync(store, source)
    assert first.summary.imported == SAMPLE_SIZE and first.summary.rejected == 0, [o.line for o in outcomes]
    assert (first.documents_fetched, first.entries_seen) == (SAMPLE_SIZE, SAMPLE_SIZE)
    # changes.csv, then each document with its .sha512 and .asc; index.txt is not needed
    assert first.requests == site.requests == 1 + 3 * SAMPLE_SIZE
    assert site.hits(f"/{WHITE}/index.txt") == 0
    assert all(o.source.startswith(site.base + WHITE + "/20") for o in outcomes)

    second, _ = run_sync(store, source)
    assert second.summary.counts["unchanged"] == SAMPLE_SIZE and second.summary.imported == 0
    assert (second.requests, second.documents_fetched, second.entries_seen) == (1, 0, SAMPLE_SIZE)
    assert site.requests == 1 + 3 * SAMPLE_SIZE + 1  # only changes.csv again, answered 304

    # The provider re-publishes one advisory: same content, other whitespace, new hash and stamp.
    changed_path, _ = entries[7]
    document = tmp_path / changed_path
    content = json.dumps(json.loads(document.read_bytes()), indent=1).encode()
    rewrite(document, content)
    rewrite(Path(f"{document}.sha512"), f"{hashlib.sha512(content).hexdigest()}  {document.name}\n".encode())
    changes = tmp_path / WHITE / "changes.csv"
    stamp = "2024-10-30T12:00:00.000000Z"
    rewrite(
        changes,
        changes.read_text().replace(f'"{changed_path}","{entries[7][1]}"', f'"{changed_path}","{stamp}"').encode(),
    )

    before = Counter(site.server.hits)
    third, outcomes = run_sync(store, source)
    assert (third.documents_fetched, third.requests) == (1, 4)
    assert Counter(site.server.hits) - before == Counter(
        {f"/{WHITE}/changes.csv": 1, f"/{changed_path}": 1, f"/{changed_path}.sha512": 1, f"/{changed_path}.asc": 1}
    )
    fetched = [o for o in outcomes if o.source == site.base + changed_path]
    assert [o.status for o in fetched] == ["revision"], [o.line for o in fetched]
    assert third.summary.counts["unchanged"] == SAMPLE_SIZE - 1
    with store.sessions() as session:
        recorded = session.scalar(select(t.SyncEntry.changed).where(t.SyncEntry.url == site.base + changed_path))
        synced = session.scalar(select(t.SyncSource.last_synced_at).where(t.SyncSource.location == source))
    assert recorded == stamp and synced is not None


def write_rolie(site: Site, entries: list[tuple[str, str]], extra_feeds: tuple[str, ...] = ()) -> str:
    """A provider-metadata.json and a ROLIE feed (beside the documents, as CISA does); returns the metadata URL."""
    feed_url = f"{site.base}{WHITE}/feed-tlp-white.json"
    feed = {
        "feed": {
            "id": "test-feed",
            "title": "test feed",
            "link": [{"rel": "self", "href": feed_url}],
            "updated": "2024-10-24T00:00:00Z",
            "entry": [
                {
                    "id": path.rsplit("/", 1)[-1],
                    "title": path,
                    "link": [
                        {"rel": "self", "href": site.base + path},
                        {"rel": "hash", "href": site.base + path + ".sha512"},
                        {"rel": "signature", "href": site.base + path + ".asc"},
                    ],
                    "updated": stamp,
                    "content": {"type": "application/json", "src": site.base + path},
                }
                for path, stamp in entries
            ],
        }
    }
    (site.root / WHITE / "feed-tlp-white.json").write_text(json.dumps(feed))
    metadata_url = site.base + "provider-metadata.json"
    feeds = [{"summary": "TLP:WHITE", "tlp_label": "WHITE", "url": url} for url in (feed_url, *extra_feeds)]
    metadata = {
        "canonical_url": metadata_url,
        "distributions": [{"rolie": {"categories": [], "feeds": feeds, "services": []}}],
        "last_updated": "2024-10-24T00:00:00Z",
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "public_openpgp_keys": [],
        "publisher": {"category": "vendor", "name": "Test", "namespace": "https://example.com"},
        "role": "csaf_trusted_provider",
    }
    (site.root / "provider-metadata.json").write_text(json.dumps(metadata))
    return metadata_url


def test_rolie_feed_sync_is_incremental(store: Store, serve: Callable[[Path], Site], tmp_path):
    entries = copy_sample(tmp_path, listings=False)
    site = serve(tmp_path)
    source = write_rolie(site, entries)

    first, outcomes = run_sync(store, source)
    assert first.summary.imported == SAMPLE_SIZE and first.summary.rejected == 0, [o.line for o in outcomes]
    assert first.requests == site.requests == 2 + 3 * SAMPLE_SIZE  # metadata, feed, documents + siblings

    second, _ = run_sync(store, source)
    assert (second.documents_fetched, second.requests) == (0, 2)  # metadata, then the feed answers 304
    assert second.summary.counts["unchanged"] == second.entries_seen == SAMPLE_SIZE


def test_local_copy_of_a_rolie_provider_maps_its_urls_into_the_copy(store: Store, serve, tmp_path, monkeypatch):
    entries = copy_sample(tmp_path, listings=False)
    write_rolie(serve(tmp_path), entries)  # the server only lends its URLs to the files
    sent = spy_on_http(monkeypatch)

    report, outcomes = run_sync(store, str(tmp_path))
    assert report.summary.imported == SAMPLE_SIZE, [o.line for o in outcomes]
    assert sent == [] and all(o.source.startswith(str(tmp_path)) for o in outcomes)


def test_index_entry_with_dot_dot_is_rejected_and_the_rest_imported(store: Store, serve, tmp_path):
    entries = copy_sample(tmp_path, listings=False)
    # A valid advisory outside the distribution directory: importing it would prove the escape.
    shutil.copyfile(tmp_path / entries[0][0], tmp_path / "csaf_files/OT/secret.json")
    listed = [p for p, _ in entries] + ["../secret.json", f"{WHITE}/../secret.json"]
    (tmp_path / WHITE / "index.txt").write_text("\n".join(listed) + "\n")
    site = serve(tmp_path)
    source = site.base + WHITE + "/"

    first, outcomes = run_sync(store, source)
    rejected = [o for o in outcomes if o.status == "rejected"]
    assert first.summary.imported == SAMPLE_SIZE
    assert [o.source for o in rejected] == [
        f"{source}index.txt#../secret.json",
        f"{source}index.txt#{WHITE}/../secret.json",
    ]
    assert all("'..' path segment" in (o.reason or "") for o in rejected)
    assert site.hits("/csaf_files/OT/secret.json") == 0

    # index.txt has no stamps: the documents are re-asked conditionally (304), the bad entries re-reported.
    before = Counter(site.server.hits)
    second, _ = run_sync(store, source)
    assert (second.documents_fetched, second.summary.rejected) == (0, 2)
    assert second.summary.counts["unchanged"] == SAMPLE_SIZE
    # changes.csv (404) then index.txt, twice: conditionally (304), then in full for the retries
    asked = Counter(site.server.hits) - before
    assert asked[f"/{WHITE}/changes.csv"] == asked[f"/{WHITE}/index.txt"] == 2
    assert all(asked[f"/{path}"] == 1 for path, _ in entries)  # one conditional request each, answered 304
    assert second.requests == sum(asked.values()) == 4 + SAMPLE_SIZE


def test_non_http_feed_and_entry_urls_are_refused(store: Store, serve, tmp_path):
    entries = copy_sample(tmp_path, listings=False)
    site = serve(tmp_path)
    source = write_rolie(site, entries, extra_feeds=("file:///etc/passwd",))
    feed_file = tmp_path / WHITE / "feed-tlp-white.json"
    feed = json.loads(feed_file.read_text())
    feed["feed"]["entry"].append(
        {"id": "local", "updated": "2024-01-01T00:00:00Z", "content": {"src": "file:///etc/hostname"}}
    )
    feed_file.write_text(json.dumps(feed))

    report, outcomes = run_sync(store, source)
    rejected = {o.source: o.reason or "" for o in outcomes if o.status == "rejected"}
    assert report.summary.imported == SAMPLE_SIZE
    assert "refusing file URL" in rejected.pop("file:///etc/passwd")
    assert list(rejected) == [f"{site.base}{WHITE}/feed-tlp-white.json#file:///etc/hostname"]
    assert "refusing file URL" in rejected.popitem()[1]

    only_file = tmp_path / "only-file.json"
    only_file.write_text(json.dumps({"distributions": [{"rolie": {"feeds": [{"url": "file:///etc/passwd"}]}}]}))
    with pytest.raises(SyncError, match="refusing file URL"):
        sync(store, site.base + "only-file.json")
    with pytest.raises(SyncError, match="refusing ftp URL"):
        sync(store, "ftp://127.0.0.1/provider-metadata.json")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/provider-metadata.json",
        "https://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/x.json",
        "http://127.0.0.1:9/x.json",
        "http://[::ffff:192.168.1.1]/x.json",
        "http://[fd00::1]/x.json",
    ],
)
def test_private_addresses_are_refused_before_any_connection(url: str, monkeypatch):
    connects = []

    def tripwire(*args: Any, **kwargs: Any) -> None:  # never let a policy bug reach a real 10.x host
        connects.append(args)
        raise OSError("tripwire: no connection may be attempted")

    monkeypatch.setattr(socket, "create_connection", tripwire)
    host = urlsplit(url).hostname or ""
    with pytest.raises(UnsafeURL, match="private, loopback or link-local"):
        allowed_addresses(host, 80, allow_private=False)
    assert allowed_addresses(host, 80, allow_private=True)  # literal addresses: no DNS, no traffic
    fetcher = HttpFetcher(allow_private=False)
    try:
        with pytest.raises(UnsafeURL, match="--allow-private"):
            fetcher.get(url, 1000)
    finally:
        fetcher.close()
    assert connects == []


def test_private_address_refusal_holds_against_a_live_loopback_server(serve, tmp_path):
    site = serve(tmp_path)
    fetcher = HttpFetcher(allow_private=False)
    try:
        with pytest.raises(UnsafeURL):
            fetcher.get(site.base + "anything.json", 1000)
    finally:
        fetcher.close()
    assert site.requests == 0


def test_url_policy_refuses_other_schemes_and_dot_segments():
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/", "http://127.0.0.1/a/%2e%2e/b"):
        with pytest.raises(UnsafeURL):
            check_url(url)
    check_url("https://example.com/.well-known/csaf/provider-metadata.json")


DIRECTORY = "https://example.com/csaf_files/OT/white/"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("2024/icsa-24-001-01.json", "2024/icsa-24-001-01.json"),  # the spec's relative path
        ("csaf_files/OT/white/2024/icsa-24-001-01.json", "2024/icsa-24-001-01.json"),  # CISA: repository-rooted
        ("white/2024/icsa-24-001-01.json", "2024/icsa-24-001-01.json"),  # a shorter overlap
        ("/csaf_files/OT/white/2024/a.json", "2024/a.json"),  # server-rooted
        (DIRECTORY + "2024/a.json", "2024/a.json"),
        ("./2024/a.json", "2024/a.json"),
    ],
)
def test_listed_paths_resolve_below_their_directory(entry: str, expected: str):
    assert relative_path(DIRECTORY, entry) == expected


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("../secret.json", "'..' path segment"),
        ("2024/../../x.json", "'..' path segment"),
        ("/other/2024/a.json", "absolute path outside"),
        ("https://example.com/elsewhere/a.json", "absolute URL outside"),
        ("2024/a%2e%2e.json", "unexpected characters"),
        ("2024\\..\\a.json", "unexpected characters"),
        ("csaf_files/OT/white", "names the distribution directory itself"),
    ],
)
def test_listed_paths_leaving_their_directory_are_refused(entry: str, reason: str):
    with pytest.raises(Refused, match=re.escape(reason)):
        relative_path(DIRECTORY, entry)


def test_hash_mismatch_over_http_rejects_that_document_only(store: Store, serve, tmp_path):
    entries = copy_sample(tmp_path)
    tampered = entries[3][0]
    (tmp_path / f"{tampered}.sha512").write_text(hashlib.sha512(b"something else").hexdigest() + "\n")
    site = serve(tmp_path)

    report, outcomes = run_sync(store, site.base + WHITE + "/")
    rejected = [o for o in outcomes if o.status == "rejected"]
    assert report.summary.imported == SAMPLE_SIZE - 1
    assert [o.source for o in rejected] == [site.base + tampered]
    assert "sha512 mismatch" in (rejected[0].reason or "")


def test_oversized_and_missing_documents_are_rejected_with_the_url(serve, tmp_path):
    entries = copy_sample(tmp_path)
    big = max(entries[1:], key=lambda e: (tmp_path / e[0]).stat().st_size)[0]
    limit = (tmp_path / big).stat().st_size - 1
    (tmp_path / entries[0][0]).unlink()
    store = open_store(load_settings(f"sqlite:///{tmp_path / 'v.db'}", max_document_bytes=limit))
    site = serve(tmp_path)
    try:
        report, outcomes = run_sync(store, site.base + WHITE + "/")
    finally:
        store.close()
    rejected = {o.source: o.reason or "" for o in outcomes if o.status == "rejected"}
    assert rejected[site.base + entries[0][0]] == "cannot fetch it: HTTP 404"
    assert "over the" in rejected[site.base + big] and "-byte limit" in rejected[site.base + big]
    assert report.summary.imported == SAMPLE_SIZE - len(rejected)


def spy_on_http(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every request httpx sends (the requests still go out)."""
    sent: list[str] = []
    real_send = httpx.Client.send

    def send(client: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        sent.append(str(request.url))
        return real_send(client, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", send)
    return sent


def test_local_directory_sync_makes_no_http_request(store: Store, tmp_path, monkeypatch):
    copy_sample(tmp_path)
    sent = spy_on_http(monkeypatch)

    first, outcomes = run_sync(store, str(tmp_path))  # the tree's root: the distribution is found below it
    assert first.summary.imported == SAMPLE_SIZE, [o.line for o in outcomes]
    assert first.requests == 1 + 3 * SAMPLE_SIZE  # local reads: changes.csv, documents and siblings
    second, _ = run_sync(store, str(tmp_path))
    assert (second.requests, second.documents_fetched, second.summary.counts["unchanged"]) == (1, 0, SAMPLE_SIZE)
    assert sent == []


def test_unreadable_sources_raise_sync_error(store: Store, tmp_path):
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SyncError, match="cannot read the provider metadata"):
        sync(store, f"http://127.0.0.1:{port}/.well-known/csaf/provider-metadata.json")
    with pytest.raises(SyncError, match=r"no provider-metadata\.json, changes\.csv, index\.txt or ROLIE feed"):
        sync(store, str(tmp_path))
    with pytest.raises(SyncError, match="no such directory"):
        sync(store, str(tmp_path / "absent"))


@pytest.mark.corpus
@pytest.mark.slow
def test_cisa_corpus_sync_over_http(serve: Callable[[Path], Site], tmp_path):
    corpus = Path(__file__).resolve().parents[2] / "shared/corpus/cisa-csaf"
    if not (corpus / "csaf_files").is_dir():
        pytest.skip(f"shared CISA corpus not found at {corpus}")
    site = serve(corpus)
    store = open_store(load_settings(f"sqlite:///{tmp_path / 'corpus.db'}"))
    sources = [f"{site.base}csaf_files/{part}/white/" for part in ("OT", "IT")]
    try:
        started = time.monotonic()
        first = [run_sync(store, source)[0] for source in sources]
        elapsed = time.monotonic() - started
        rejected = sum(r.summary.rejected for r in first)
        assert (sum(r.summary.imported for r in first), rejected) == (2383, 0)
        assert sum(r.documents_fetched for r in first) == 2383
        print(f"\ncorpus sync: 2383 advisories, {site.requests} requests, {elapsed:.1f}s")

        before = site.requests
        second = [run_sync(store, source)[0] for source in sources]
        assert sum(r.summary.counts["unchanged"] for r in second) == 2383
        assert sum(r.summary.imported + r.summary.rejected + r.documents_fetched for r in second) == 0
        assert site.requests - before == sum(r.requests for r in second) == 2  # one 304 per changes.csv
    finally:
        store.close()
