"""One hook call computes at a time in each worker process; the others queue for the slot.

gunicorn runs several threads per worker (``gunicorn.conf.py``) so that a call waiting on
I/O (the EHR's FHIR server, the audit commit, the socket) does not idle the worker. But
the rest of a call is Python on the CPU, and CPU-bound threads share the GIL in slices of
5 ms: four calls in one worker all advance at a quarter of the speed, so each finishes
about as late as the last, and every thread coming back from I/O waits behind them for
the GIL. With the slot, calls compute one after another: the first answers after one
call's time instead of four, throughput is unchanged (one core per worker either way),
and I/O still overlaps: the request body is read off the socket before the slot is taken
(``hooks.call_service``), the audit commit and the answer happen after it is let go, and
a call lets it go while it waits on the EHR's FHIR server (``released``). Measured in
docs/performance.md.

A thread waiting for the slot blocks in ``Lock.acquire``, which does not hold the GIL.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_slot = threading.Lock()
_state = threading.local()


def _holding() -> bool:
    return getattr(_state, "holding", False)


@contextmanager
def computing() -> Iterator[None]:
    """Hold the slot for the block (re-entrant within a thread)."""
    if _holding():
        yield
        return
    with _slot:
        _state.holding = True
        try:
            yield
        finally:
            _state.holding = False


@contextmanager
def released() -> Iterator[None]:
    """Let the slot go for the block, when this thread holds it: around a wait on I/O."""
    if not _holding():
        yield
        return
    _state.holding = False
    _slot.release()
    try:
        yield
    finally:
        _slot.acquire()
        _state.holding = True


def _reset_after_fork() -> None:
    """A forked child starts with a free slot, whatever the parent's threads were doing."""
    global _slot, _state
    _slot = threading.Lock()
    _state = threading.local()


os.register_at_fork(after_in_child=_reset_after_fork)
