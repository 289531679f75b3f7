"""Blocking calls that must not stop a gevent worker's other greenlets.

Under the gevent worker (``gunicorn.conf.py`` patches the standard library first) sockets, locks
and ``requests`` yield to other greenlets while they wait. A call into C that blocks does not: a
SQLite commit waits for its fsync (milliseconds, and on a stalling disk far more), and every
greenlet of the worker would wait with it. :func:`off_loop` runs such a call in gevent's pool of
native threads and lets the loop go on meanwhile; unpatched (tests, the console), it just calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from gevent import get_hub, monkey

T = TypeVar("T")


def cooperative() -> bool:
    """Whether this process runs under gevent's patched standard library."""
    return monkey.is_module_patched("threading")


def off_loop(work: Callable[[], T]) -> T:
    """``work()``, in a native thread when the loop must stay free; its result or its exception."""
    if not cooperative():
        return work()
    return get_hub().threadpool.apply(work)
