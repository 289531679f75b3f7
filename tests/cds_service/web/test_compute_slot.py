"""The compute slot: one thread at a time inside ``computing``, none kept out by ``released``."""

from __future__ import annotations

import threading

from cds_service.web import compute_slot

WAIT = 5.0


def _run(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_a_second_thread_computes_only_after_the_first_is_done():
    order: list[str] = []
    inside, leave = threading.Event(), threading.Event()

    def first() -> None:
        with compute_slot.computing():
            order.append("first in")
            inside.set()
            leave.wait(WAIT)
            order.append("first out")

    def second() -> None:
        with compute_slot.computing():
            order.append("second in")

    one = _run(first)
    assert inside.wait(WAIT)
    two = _run(second)
    two.join(0.2)
    assert two.is_alive()  # still queued for the slot
    leave.set()
    one.join(WAIT)
    two.join(WAIT)
    assert order == ["first in", "first out", "second in"]


def test_released_lets_another_thread_compute_and_takes_the_slot_back():
    order: list[str] = []
    waiting, other_done = threading.Event(), threading.Event()

    def first() -> None:
        with compute_slot.computing():
            with compute_slot.released():
                waiting.set()
                other_done.wait(WAIT)
            order.append("first back")

    def second() -> None:
        with compute_slot.computing():
            order.append("second")
        other_done.set()

    one = _run(first)
    assert waiting.wait(WAIT)
    _run(second).join(WAIT)
    one.join(WAIT)
    assert order == ["second", "first back"]


def test_nested_and_unheld_uses_do_not_deadlock():
    with compute_slot.computing(), compute_slot.computing():
        pass
    with compute_slot.released():  # not holding: nothing to let go
        pass
    with compute_slot.computing():
        pass
