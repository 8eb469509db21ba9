"""Uploads: the request body streamed to a temporary file, never held whole in memory, refused (413) past a
size limit before and while it arrives."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from fastapi import Request

from vigil.web.problems import Problem, bad_field

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str | None, default: str, suffixes: tuple[str, ...]) -> str:
    """A plain file name (no directories, no odd characters) ending in one of `suffixes`."""
    base = SAFE_NAME.sub("_", Path(name or default).name).strip("._")[:100] or default
    if not base.lower().endswith(suffixes):
        raise bad_field("query.filename", f"must end in {' or '.join(suffixes)}")
    return base


def too_large(limit: int) -> Problem:
    return Problem(413, f"the upload is larger than the limit of {limit} bytes", "too-large")


async def spool(request: Request, limit: int, filename: str) -> Path:
    """The body in `<new temporary directory>/<filename>`; the caller removes the directory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    folder = Path(tempfile.mkdtemp(prefix="vigil-upload-"))
    target = folder / filename
    size = 0
    try:
        with target.open("wb") as handle:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                handle.write(chunk)
        if size == 0:
            raise bad_field("body", "the upload is empty")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target
