"""Pausing Python's cyclic garbage collector around work that builds millions of small acyclic objects.

Reference counting still frees every one of them; the cyclic collector only re-scans them, again and again as
they accumulate: a quarter of a 100,000-row match run and a third of a 28,000-finding prioritisation
(measured). Used around one site's work at a time, so the pause is bounded.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
