"""Reading a provider's files: one small interface, a local-directory and an HTTP(S) implementation.

The HTTP side carries vigil's URL policy: only http/https, no `.`/`..` path segments, every
resolved address checked at connect time (so DNS cannot swap in a private address after the
check), bounded size, timeouts on every request and an overall deadline per request.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import httpcore
import httpx

from vigil.errors import first_line

# The csaf library sets the root logger to INFO on import; httpx would then log every request.
logging.getLogger("httpx").setLevel(logging.WARNING)

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEADLINE_SECONDS = 300.0
"""No single request may take longer, however slowly a server trickles bytes."""
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchError(Exception):
    """One location cannot be read; `str(error)` is a one-line reason (the caller names the location)."""


class NotFound(FetchError):
    """HTTP 404/410, or no such local file: an absent sibling, not a failure."""


class UnsafeURL(FetchError):
    """The URL policy refuses this location (scheme, path, private address, outside the source)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one read returned."""

    content: bytes | None
    """The body; None when the validator sent still matches (HTTP 304, or an untouched local file)."""
    validator: str | None
    """ETag or Last-Modified (local files: mtime and size), to send with the next read."""


class Fetcher(Protocol):
    """Reads locations of one source: a local directory or HTTP(S)."""

    @property
    def requests(self) -> int:
        """HTTP requests sent, or local files read or checked, so far."""
        ...

    def get(self, url: str, limit: int, validator: str | None = None) -> Fetched:
        """The bytes at `url` (at most `limit`); NotFound, UnsafeURL or FetchError otherwise."""
        ...

    def close(self) -> None: ...


def check_url(url: str) -> None:
    """Refuse what vigil never fetches from a provider: non-HTTP(S) schemes and dot segments."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL(f"refusing {scheme or 'scheme-less'} URL {url[:200]!r}: only http and https are fetched")
    if not parts.hostname:
        raise UnsafeURL(f"URL {url[:200]!r} has no host")
    # Servers decode %2e%2e, so the decoded path is what must not climb.
    if any(segment in (".", "..") for segment in unquote(parts.path).replace("\\", "/").split("/")):
        raise UnsafeURL(f"URL {url[:200]!r} has a '.' or '..' path segment")


def allowed_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve `host`; unless `allow_private`, refuse it when any address is not globally routable."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise FetchError(f"cannot resolve {host}: {error}") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
    if not allow_private:
        for address in addresses:
            if _private(address):
                raise UnsafeURL(
                    f"{host} is {address}, a private, loopback or link-local address "
                    "(--allow-private permits in-house mirrors)"
                )
    return [str(address) for address in addresses]


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def is_loopback_url(url: str) -> bool:
    """True when every address of the URL's host is loopback: the source is on this machine."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    addresses = allowed_addresses(host, parts.port or 443, allow_private=True)
    return all(ipaddress.ip_address(address).is_loopback for address in addresses)


def local_path(url: str) -> Path | None:
    """The filesystem path of a `file:` URL (how local sources address their files), else None."""
    parts = urlsplit(url)
    return Path(url2pathname(parts.path)) if parts.scheme == "file" else None


def display(url: str) -> str:
    """How a location is shown to people: local files as paths, the rest as URLs."""
    path = local_path(url)
    if path is None:
        return url
    fragment = urlsplit(url).fragment
    return f"{path}#{fragment}" if fragment else str(path)


class _RequestCounter:
    """Counts requests (or local reads) across the fetch threads, for SyncReport.requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0

    @property
    def requests(self) -> int:
        return self._requests

    def _count(self) -> None:
        with self._lock:
            self._requests += 1


class LocalFetcher(_RequestCounter):
    """Reads files of one local directory tree; never opens a socket."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root.resolve()

    def get(self, url: str, limit: int, validator: str | None = None) -> Fetched:
        self._count()
        path = local_path(url)
        if path is None:
            raise UnsafeURL(f"a local source reads only its own files, not {url[:200]!r}")
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):  # a symlink or crafted path leaving the tree
            raise UnsafeURL(f"{path} is outside the source directory {self.root}")
        try:
            stat = resolved.stat()
            if not resolved.is_file():
                raise FetchError("not a regular file")
            stamp = f"{stat.st_mtime_ns}-{stat.st_size}"
            if validator == stamp:
                return Fetched(None, stamp)
            if stat.st_size > limit:
                raise FetchError(f"{stat.st_size:,} bytes, over the {limit:,}-byte limit")
            with resolved.open("rb") as file:
                content = file.read(limit + 1)  # the file may grow between stat and read
        except FileNotFoundError:
            raise NotFound("no such file") from None
        except OSError as error:
            raise FetchError(f"cannot read: {error.strerror or error}") from None
        if len(content) > limit:
            raise FetchError(f"over the {limit:,}-byte limit")
        return Fetched(content, stamp)

    def close(self) -> None:
        pass


class _CheckedBackend(httpcore.SyncBackend):
    """Resolves and vets the host right before connecting, then connects to a vetted address."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in allowed_addresses(host, port, self._allow_private):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure or httpcore.ConnectError(f"{host} has no address")


class _CheckedTransport(httpx.HTTPTransport):
    def __init__(self, allow_private: bool) -> None:
        super().__init__(trust_env=False)
        # httpx offers no hook for the network backend; the pool is its one documented seam.
        # TLS still verifies against the URL's host name, because httpcore passes it as SNI.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=16,
            network_backend=_CheckedBackend(allow_private),
        )


class HttpFetcher(_RequestCounter):
    """Reads http(s) URLs under the URL policy, with conditional requests and a size bound."""

    def __init__(self, allow_private: bool, deadline: float = DEADLINE_SECONDS) -> None:
        super().__init__()
        # trust_env=False: no proxy from the environment may receive the traffic instead.
        self._client = httpx.Client(
            transport=_CheckedTransport(allow_private),
            timeout=TIMEOUT,
            follow_redirects=False,
            trust_env=False,
            # Identity encoding: the size bound then applies to what is sent, no decompression bomb.
            headers={"User-Agent": "vigil-csaf-sync", "Accept-Encoding": "identity"},
        )
        self._deadline = deadline

    def get(self, url: str, limit: int, validator: str | None = None) -> Fetched:
        headers = {}
        if validator:
            is_etag = validator.startswith(('"', "W/"))
            headers["If-None-Match" if is_etag else "If-Modified-Since"] = validator
        for _hop in range(MAX_REDIRECTS + 1):
            check_url(url)
            self._count()
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    status = response.status_code
                    if status in _REDIRECTS and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue  # the next hop passes the same checks
                    if status == 304 and validator:
                        return Fetched(None, validator)
                    if status in (404, 410):
                        raise NotFound(f"HTTP {status}")
                    if status != 200:
                        raise FetchError(f"HTTP {status} {response.reason_phrase}".rstrip())
                    return Fetched(self._read(response, limit), _validator_of(response))
            except httpx.TimeoutException as error:
                raise FetchError(f"timed out ({type(error).__name__})") from None
            except httpx.HTTPError as error:
                reason = first_line(error)
                raise FetchError(f"request failed: {reason}") from None
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    def _read(self, response: httpx.Response, limit: int) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{int(declared):,} bytes, over the {limit:,}-byte limit")
        started, body = time.monotonic(), bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise FetchError(f"over the {limit:,}-byte limit")
            if time.monotonic() - started > self._deadline:
                raise FetchError(f"download took longer than {self._deadline:.0f}s")
        return bytes(body)

    def close(self) -> None:
        self._client.close()


def _validator_of(response: httpx.Response) -> str | None:
    value = response.headers.get("etag") or response.headers.get("last-modified")
    return value if value and len(value) <= 200 else None  # sync_entry.validator holds 200
