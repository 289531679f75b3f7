"""The /fhir access tokens in the store: one instance issues, every other accepts, until expiry."""

from __future__ import annotations

from sqlalchemy import select

from cds_service.storage import Store
from cds_service.storage.schema import fhir_access_tokens

GRANT = {"client_id": "dtr-app", "issuer": "https://ehr.example.org", "scope": "system/Questionnaire.rs"}


def test_a_token_saved_by_one_instance_is_read_by_another_until_it_expires(settings):
    first, second = Store.open(settings), Store.open(settings)
    try:
        first.save_access_token("a" * 64, GRANT, expires_at=1300.0, now=1000.0)
        assert second.access_token("a" * 64, now=1299.0) == GRANT
        assert second.access_token("a" * 64, now=1300.0) is None
        assert second.access_token("b" * 64, now=1000.0) is None
    finally:
        first.close()
        second.close()


def test_expired_tokens_are_dropped_as_new_ones_are_saved(settings):
    store = Store.open(settings)
    try:
        store.save_access_token("a" * 64, GRANT, expires_at=1300.0, now=1000.0)
        store.save_access_token("b" * 64, GRANT | {"issuer": None}, expires_at=1700.0, now=1400.0)
        with store.engine.connect() as conn:
            kept = conn.execute(select(fhir_access_tokens.c.token_sha256)).scalars().all()
        assert kept == ["b" * 64]
        assert store.access_token("b" * 64, now=1400.0) == GRANT | {"issuer": None}
    finally:
        store.close()
