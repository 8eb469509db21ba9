"""Read candidates on every core, in order, with a bounded number in flight.

Schema validation is pure-Python CPU work (~8 ms a document); reading in worker processes lets
the importer's single writer store one document while the others are validated. The window keeps
memory bounded however many files a directory holds.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice

from vigil.sources.csaf.files import Candidate
from vigil.sources.csaf.reader import Prepared, ReadPolicy, Verdict, read_candidate

# Below this many documents a pool costs more to start (each worker imports the validator) than it saves.
_POOL_THRESHOLD = 24
log = logging.getLogger(__name__)
_policy: ReadPolicy | None = None


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def read_all(candidates: Iterable[Candidate], policy: ReadPolicy, workers: int) -> Iterator[Prepared | Verdict]:
    """read_candidate over all candidates, results in input order."""
    iterator = iter(candidates)
    head = list(islice(iterator, _POOL_THRESHOLD))
    if workers <= 1 or len(head) < _POOL_THRESHOLD:
        yield from (read_candidate(candidate, policy) for candidate in chain(head, iterator))
        return
    window = workers * 4
    # forkserver, not fork: callers (sync) run fetch threads, and forking a threaded process can
    # copy a held lock into the child.
    context = multiprocessing.get_context("forkserver")
    source = chain(head, iterator)
    # A candidate leaves `pending` only once its result is in hand, so none is lost if the pool breaks.
    pending: deque[tuple[Candidate, Future[Prepared | Verdict]]] = deque()
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init, initargs=(policy,)) as pool:
            for candidate in source:
                pending.append((candidate, pool.submit(_read_in_worker, candidate)))
                if len(pending) >= window:
                    result = pending[0][1].result()
                    pending.popleft()
                    yield result
            while pending:
                result = pending[0][1].result()
                pending.popleft()
                yield result
    except BrokenProcessPool:
        # Workers could not start or died (e.g. a caller's unguarded __main__ under forkserver, or
        # the OOM killer): finish in this process rather than lose the batch.
        log.warning("import workers failed; reading the remaining documents in one process")
        yield from (read_candidate(candidate, policy) for candidate, _ in pending)
        yield from (read_candidate(candidate, policy) for candidate in source)


def _init(policy: ReadPolicy) -> None:
    global _policy  # one policy per worker process, sent once instead of with every task
    _policy = policy


def _read_in_worker(candidate: Candidate) -> Prepared | Verdict:
    assert _policy is not None
    return read_candidate(candidate, _policy)
