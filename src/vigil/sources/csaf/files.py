"""Local files and directories -> advisory candidates with their integrity siblings."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SIDECARS = ("sha256", "sha512", "asc")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One advisory to import, as received, with whatever vouches for it."""

    source: str
    """Path or URL, as shown to the user in every message about it."""
    content: bytes | None
    """The document's bytes; None when it was refused before reading (see `refusal`)."""
    sidecars: dict[str, bytes] = field(default_factory=dict)
    """Contents of the `.sha256`, `.sha512` and `.asc` siblings that exist."""
    refusal: str | None = None
    """Why the candidate is rejected without being read (size, symlink, unreadable)."""
    from_scan: bool = False
    """Found by scanning a directory (not named by the user): non-advisory JSON is skipped, not rejected."""
    skipped: str | None = None
    """Why this entry is reported but not read, e.g. a symlinked directory that is not followed."""


def discover(paths: Sequence[Path], max_bytes: int) -> Iterator[Candidate]:
    """Every `*.json` file under the given paths (recursively), in a stable order."""
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            for file, is_link_dir in _walk_json(path):
                if is_link_dir:
                    yield Candidate(str(file), None, skipped="symlinked directory, not followed", from_scan=True)
                else:
                    yield _read(file, root, max_bytes, from_scan=True)
        elif path.exists():
            yield _read(path, path.resolve().parent, max_bytes, from_scan=False)
        else:
            yield Candidate(str(path), None, refusal="no such file or directory")


def count_json(paths: Sequence[Path]) -> int:
    """How many candidates `discover` will yield (for a progress bar's total)."""
    return sum(sum(1 for _ in _walk_json(p)) if p.is_dir() else 1 for p in paths)


def _walk_json(top: Path) -> Iterator[tuple[Path, bool]]:
    """(path, is a symlinked directory) for every *.json file and every directory link below top."""
    # Symlinked directories are reported, never entered: a link could loop or lead anywhere.
    # Symlinked *files* are listed and checked against the root in _read.
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        links = [name for name in dirnames if (Path(dirpath) / name).is_symlink()]
        for name in links:
            yield Path(dirpath) / name, True
        for name in sorted(filenames):
            if name.endswith(".json"):
                yield Path(dirpath) / name, False


def _read(file: Path, root: Path, max_bytes: int, from_scan: bool) -> Candidate:
    source = str(file)
    try:
        resolved = file.resolve(strict=True)
        if not resolved.is_relative_to(root):
            return Candidate(source, None, refusal=f"symlink points outside the import root ({root})")
        size = resolved.stat().st_size
        if size > max_bytes:
            return Candidate(source, None, refusal=f"document is {size:,} bytes, over the {max_bytes:,}-byte limit")
        content = resolved.read_bytes()
    except OSError as error:
        return Candidate(source, None, refusal=f"cannot read: {error.strerror or error}")
    sidecars: dict[str, bytes] = {}
    for kind in SIDECARS:
        sibling = file.with_name(f"{file.name}.{kind}")
        try:
            if not sibling.exists():
                continue
            if not sibling.resolve().is_relative_to(root):
                # Ignoring it would import the document as unhashed/unsigned: refuse instead.
                return Candidate(source, None, refusal=f"{sibling.name} is a symlink that leaves the import root")
            sidecars[kind] = sibling.read_bytes()[:1_000_000]  # hashes and signatures are small
        except OSError as error:
            return Candidate(source, None, refusal=f"cannot read {sibling.name}: {error.strerror or error}")
    return Candidate(source, content, sidecars, from_scan=from_scan)
