"""The DTR judgements kept by coverage-assertion-id, and the questionnaire errors clients log.

A context is found only by the issuer it was stored under (``""`` when authentication is off):
assertion ids are built from guessable parts, so the issuer is what keeps one organisation's
judgements from another's. A context older than ``CDS_DTR_CONTEXT_DAYS`` is unknown even before
``lenalidomide-cds purge`` deletes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select

from .schema import dtr_contexts, dtr_questionnaire_errors
from .store import Store

NO_ISSUER = ""


@dataclass(frozen=True)
class ClauseJudgement:
    status: str  # "met" | "not-met" | "unknown"
    evidence: tuple[str, ...] = ()  # "Condition/c1", never resource content


@dataclass(frozen=True)
class DtrContext:
    """What the service judged for one order under one coverage-assertion-id."""

    assertion_id: str
    questionnaire: str  # canonical|version
    coverage_ref: str  # "Coverage/x"
    order_ref: str  # "MedicationRequest/y"
    indication: str
    pathway: str
    likelihood: str
    criteria: Mapping[str, ClauseJudgement]  # every clause judged, alternatives included
    issuer: str = NO_ISSUER
    created_at: datetime | None = None


def _row(context: DtrContext, issuer: str, now: datetime) -> dict[str, Any]:
    return {
        "assertion_id": context.assertion_id[:64],
        "issuer": issuer[:255],
        "created_at": now,
        "questionnaire": context.questionnaire,
        "coverage_ref": context.coverage_ref,
        "order_ref": context.order_ref,
        "indication": context.indication,
        "pathway": context.pathway,
        "likelihood": context.likelihood,
        "criteria": {
            clause: {"status": judged.status, "evidence": list(judged.evidence)}
            for clause, judged in context.criteria.items()
        },
    }


@dataclass
class DtrStore:
    """The DTR tables of ``store`` (same database, same write discipline as the audit trail)."""

    store: Store
    context_days: int = 30
    clock: Any = field(default=lambda: datetime.now(UTC))

    def keep(self, contexts: Iterable[DtrContext], issuer: str | None) -> None:
        """Store each context under ``issuer``, replacing an earlier one with the same assertion
        id (the same order, coverage, day and judgement): one committed transaction."""
        rows = [_row(context, issuer or NO_ISSUER, self.clock()) for context in contexts]
        if not rows:
            return
        with self.store._writing() as conn:
            for row in rows:
                conn.execute(
                    dtr_contexts.delete().where(
                        and_(
                            dtr_contexts.c.assertion_id == row["assertion_id"],
                            dtr_contexts.c.issuer == row["issuer"],
                        )
                    )
                )
            conn.execute(dtr_contexts.insert(), rows)

    def find(self, assertion_id: str, issuer: str | None, *, any_issuer: bool = False) -> DtrContext | None:
        """The context kept under ``assertion_id`` for ``issuer`` (for any issuer only when
        authentication is off), unless it is older than the retention."""
        cutoff = self.clock() - timedelta(days=self.context_days)
        query = select(dtr_contexts).where(
            dtr_contexts.c.assertion_id == assertion_id, dtr_contexts.c.created_at >= cutoff
        )
        if not any_issuer:
            query = query.where(dtr_contexts.c.issuer == (issuer or NO_ISSUER))
        query = query.order_by(dtr_contexts.c.created_at.desc()).limit(1)
        with self.store.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        created = row["created_at"]
        return DtrContext(
            assertion_id=row["assertion_id"],
            questionnaire=row["questionnaire"],
            coverage_ref=row["coverage_ref"],
            order_ref=row["order_ref"],
            indication=row["indication"],
            pathway=row["pathway"],
            likelihood=row["likelihood"],
            criteria={
                clause: ClauseJudgement(str(judged["status"]), tuple(judged["evidence"]))
                for clause, judged in row["criteria"].items()
            },
            issuer=row["issuer"],
            created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
        )

    def log_errors(
        self, questionnaires: list[str], issues: list[dict[str, Any]], client_id: str | None, issuer: str | None
    ) -> None:
        row = {
            "received_at": self.clock(),
            "client_id": client_id,
            "issuer": issuer,
            "questionnaires": questionnaires,
            "issues": issues,
        }
        with self.store._writing() as conn:
            conn.execute(dtr_questionnaire_errors.insert(), row)

    def logged_errors(self) -> list[dict[str, Any]]:
        query = select(dtr_questionnaire_errors).order_by(dtr_questionnaire_errors.c.id)
        with self.store.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings().all()]
