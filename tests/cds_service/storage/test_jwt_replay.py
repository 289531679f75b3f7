"""The shared JWT replay cache: a jti is accepted once per issuer, across every store user."""

from __future__ import annotations

from cds_service.storage import Store


def test_a_jti_is_accepted_once_across_two_store_instances(settings):
    first, second = Store.open(settings), Store.open(settings)
    try:
        assert first.add_if_new(("https://ehr.example.org", "jti-1"), keep_until=2000.0, now=1000.0) is True
        assert second.add_if_new(("https://ehr.example.org", "jti-1"), keep_until=2000.0, now=1001.0) is False
        assert second.add_if_new(("https://other.example.org", "jti-1"), keep_until=2000.0, now=1001.0) is True
    finally:
        first.close()
        second.close()


def test_expired_entries_are_dropped(settings):
    store = Store.open(settings)
    try:
        assert store.add_if_new(("iss", "old"), keep_until=1500.0, now=1000.0) is True
        # Past keep_until the token itself can no longer be accepted (exp + leeway), so the row goes.
        assert store.add_if_new(("iss", "other"), keep_until=3000.0, now=2000.0) is True
        assert store.add_if_new(("iss", "old"), keep_until=3000.0, now=2000.0) is True
        assert store.add_if_new(("iss", "other"), keep_until=3000.0, now=2001.0) is False
    finally:
        store.close()
