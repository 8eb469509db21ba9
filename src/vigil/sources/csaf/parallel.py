"""Read candidates on every core, in order, with a bounded number in flight.

Schema validation is pure-Python CPU work (~8 ms a document); reading in worker processes lets
the importer's single writer store one document while the others are validated. The window keeps
memory bounded however many files a directory holds.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from vigil.sources.csaf.files import Candidate
from vigil.sources.csaf.reader import Prepared, ReadPolicy, Verdict, read_candidate

# Below this many documents a pool costs more to start (each worker imports the validator) than it saves.
_POOL_THRESHOLD = 24
_policy: ReadPolicy | None = None


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def read_all(candidates: Iterable[Candidate], policy: ReadPolicy, workers: int) -> Iterator[Prepared | Verdict]:
    """read_candidate over all candidates, results in input order."""
    iterator = iter(candidates)
    head = list(islice(iterator, _POOL_THRESHOLD))
    if workers <= 1 or len(head) < _POOL_THRESHOLD:
        for candidate in [*head, *iterator]:
            yield read_candidate(candidate, policy)
        return
    window = workers * 4
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(policy,)) as pool:
        pending: deque[Future[Prepared | Verdict]] = deque()
        for candidate in [*head, *iterator]:
            pending.append(pool.submit(_read_in_worker, candidate))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _init(policy: ReadPolicy) -> None:
    global _policy  # one policy per worker process, sent once instead of with every task
    _policy = policy


def _read_in_worker(candidate: Candidate) -> Prepared | Verdict:
    assert _policy is not None
    return read_candidate(candidate, _policy)
