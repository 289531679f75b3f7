"""The DTR judgements: kept per issuer, replaced by a new judgement under the same id, unknown
past CDS_DTR_CONTEXT_DAYS and deleted by purge (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cds_service.storage import Store
from cds_service.storage.dtr import ClauseJudgement, DtrContext, DtrStore
from cds_service.storage.retention import purge

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def context(assertion_id: str = "a-1", status: str = "unknown") -> DtrContext:
    return DtrContext(
        assertion_id=assertion_id,
        questionnaire="https://cds.example/fhir/Questionnaire/cp-phar-71|v1",
        coverage_ref="Coverage/cov-1",
        order_ref="MedicationRequest/mr-1",
        indication="multiple-myeloma",
        pathway="initial",
        likelihood="needs-documentation",
        criteria={
            "CP.PHAR.71 I.A.1": ClauseJudgement("met", ("Condition/c1",)),
            "CP.PHAR.71 I.A.2": ClauseJudgement(status),
        },
    )


def test_a_judgement_is_found_only_by_its_issuer(settings):
    store = Store.open(settings)
    dtr = DtrStore(store, clock=lambda: NOW)
    dtr.keep([context()], "https://ehr-a.example")
    found = dtr.find("a-1", "https://ehr-a.example")
    assert found is not None and found.criteria["CP.PHAR.71 I.A.1"] == ClauseJudgement("met", ("Condition/c1",))
    assert found.created_at == NOW
    assert dtr.find("a-1", "https://ehr-b.example") is None
    assert dtr.find("a-1", None) is None
    assert dtr.find("a-1", None, any_issuer=True) is not None
    store.close()


def test_the_same_assertion_id_is_replaced_not_duplicated(settings):
    store = Store.open(settings)
    dtr = DtrStore(store, clock=lambda: NOW)
    dtr.keep([context(status="unknown")], None)
    dtr.keep([context(status="met")], None)
    assert dtr.find("a-1", None).criteria["CP.PHAR.71 I.A.2"].status == "met"
    store.close()


def test_past_the_retention_a_context_is_unknown_and_purge_deletes_it(settings):
    store = Store.open(settings)
    now = [NOW - timedelta(days=31)]
    dtr = DtrStore(store, context_days=30, clock=lambda: now[0])
    dtr.keep([context("old")], None)
    now[0] = NOW
    dtr.keep([context("new")], None)
    assert dtr.find("old", None) is None and dtr.find("new", None) is not None
    results = {r.table: r.rows for r in purge(store, {"CDS_DTR_CONTEXT_DAYS": 30}, NOW)}
    assert results["dtr_contexts"] == 1
    now[0] = NOW - timedelta(days=40)  # even a clock that would still accept it finds nothing left
    assert dtr.find("old", None) is None and dtr.find("new", None) is not None
    store.close()
