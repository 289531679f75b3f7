"""The tables of the store, as SQLAlchemy Core metadata.

The Alembic migrations in ``migrations/versions`` create these tables; this module is what
the application reads and writes through. A test compares the two so they cannot drift.

No table holds clinical data: no patient id, no resource, no token. ``hook_calls`` is
the dispute trail Da Vinci CRD asks a payer to keep (what was answered, when, to whom, and
which coverage assertions were made); ``feedback`` is what the EHR told us about our cards.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Index, Integer, MetaData, SmallInteger, String, Table, Text

metadata = MetaData()

hook_calls = Table(
    "hook_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("service_id", String(100), nullable=False),
    Column("hook_instance", String(255), nullable=False),
    Column("client_iss", Text, nullable=True),
    Column("http_status", SmallInteger, nullable=False),
    Column("finding_codes", JSON, nullable=False),
    Column("likelihoods", JSON, nullable=False),
    Column("coverage_assertion_ids", JSON, nullable=False),
    Column("order_count", Integer, nullable=False),
    Column("duration_ms", Float, nullable=False),
)
Index("hook_calls_hook_instance", hook_calls.c.hook_instance)
Index("hook_calls_received_at", hook_calls.c.received_at)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("service_id", String(100), nullable=False),
    Column("card_uuid", Text, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("outcome_timestamp", Text, nullable=False),
    Column("accepted_suggestions", JSON(none_as_null=True), nullable=True),
    Column("override_reason", JSON(none_as_null=True), nullable=True),
    Column("client_iss", Text, nullable=True),
)
Index("feedback_card", feedback.c.card_uuid)

# One row, rewritten by /healthz at most every few seconds: proof that the store accepts writes.
health_probe = Table(
    "health_probe",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
)

# Seen client JWT ids (CDS Hooks: a jti is used once), shared by every worker and instance so a
# token replayed to another process is still refused. Rows can go once the token has expired.
jwt_replay = Table(
    "jwt_replay",
    metadata,
    Column("iss", String(255), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("keep_until", Float, nullable=False),
)
Index("jwt_replay_keep_until", jwt_replay.c.keep_until)

# Access tokens issued to DTR clients by the /fhir token endpoint (SMART Backend Services). Kept here
# rather than signed, so every worker and instance accepts them with no key to share or rotate, and a
# token can be revoked by deleting its row. Only the SHA-256 of the token is stored: reading the table
# does not give a usable token. Rows can go once the token has expired.
fhir_access_tokens = Table(
    "fhir_access_tokens",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("client_id", String(255), nullable=False),
    Column("issuer", Text, nullable=True),
    Column("scope", Text, nullable=False),
    Column("expires_at", Float, nullable=False),
)
Index("fhir_access_tokens_expires_at", fhir_access_tokens.c.expires_at)
# DTR: the judgement behind each needs-documentation coverage-information, by its
# coverage-assertion-id and the CDS Hooks issuer that asked (""  when authentication is off), so
# that $questionnaire-package (context) can pre-fill the form for that issuer only. Criterion
# statuses and evidence references only: no resource content, no patient id. Kept
# CDS_DTR_CONTEXT_DAYS, past which a context is unknown (and ``purge`` deletes it).
dtr_contexts = Table(
    "dtr_contexts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assertion_id", String(64), nullable=False),
    Column("issuer", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("questionnaire", Text, nullable=False),
    Column("coverage_ref", Text, nullable=False),
    Column("order_ref", Text, nullable=False),
    Column("indication", String(64), nullable=False),
    Column("pathway", String(16), nullable=False),
    Column("likelihood", String(32), nullable=False),
    Column("criteria", JSON, nullable=False),
)
Index("dtr_contexts_assertion", dtr_contexts.c.assertion_id, dtr_contexts.c.issuer, unique=True)
Index("dtr_contexts_created_at", dtr_contexts.c.created_at)

# What DTR clients reported through $log-questionnaire-errors (DTR oper-1): the questionnaires
# and the issues (severity, code, diagnostics, expression), nothing else of the body.
dtr_questionnaire_errors = Table(
    "dtr_questionnaire_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("client_id", Text, nullable=True),
    Column("issuer", Text, nullable=True),
    Column("questionnaires", JSON, nullable=False),
    Column("issues", JSON, nullable=False),
)
Index("dtr_questionnaire_errors_received_at", dtr_questionnaire_errors.c.received_at)
