"""From a checked hook request to its answer: which orders we speak about, the facts,
the rules' judgement, the cards. No Flask here: the blueprint hands in plain data."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fhir_mappers.case import build_cases, lenalidomide_draft_refs
from fhir_mappers.facts import CaseFacts

from ..cards import order_update
from ..cards.concurrent_imid import concurrent_imid_card
from ..cards.dose_limit import cycle_text, dose_limit_card
from ..cards.generic_substitution import generic_substitution_card
from ..cards.pa_assessment import pa_assessment_card
from ..cards.pregnancy import pregnancy_card
from ..cards.rems import rems_card, rems_monitoring_card
from ..crd import configuration as crd_configuration
from ..crd.coverage_information import PRIMARY_HOOKS, assertion_id, coverage_information_action
from ..fhir_api.judgement import kept_judgement
from ..fhir_api.questionnaire import canonical_url, versioned_canonical
from ..rules.assessment import assess
from ..rules.policy import Policy, load_policy
from ..rules.rems import judge as judge_rems
from ..security.fhir_servers import FhirServerAllowList
from ..storage.dtr import DtrContext
from . import prefetch
from .discovery import PREFETCH_TEMPLATES


@dataclass
class Settings:
    source_label: str
    fhir_timeout: float
    fhir_max_pages: int
    executor: ThreadPoolExecutor
    hook_deadline: float | None = None
    fhir_max_bytes: int = 10 * 1024 * 1024
    plan_overrides: dict[str, str] | None = None
    policy: Policy | None = None  # CDS_POLICY_FILE, loaded at start; None: the packaged one
    fhir_servers: FhirServerAllowList = field(default_factory=FhirServerAllowList)
    max_draft_orders: int = 500
    max_lenalidomide_orders: int = 20
    now: Any = None  # callable returning an aware datetime; tests pin it

    def current_time(self) -> datetime:
        return self.now() if self.now else datetime.now(UTC)


class LimitExceeded(Exception):
    """More draft orders, or lenalidomide orders, than the configured limit (HTTP 413)."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(message)
        self.field_path = field_path


@dataclass
class Outcome:
    response: dict[str, Any]
    findings: list[str] = field(default_factory=list)
    likelihoods: list[str] = field(default_factory=list)
    orders: int = 0
    prefetch_read: list[str] = field(default_factory=list)
    prefetch_unavailable: list[str] = field(default_factory=list)
    # The judgements behind needs-documentation coverage-information, to keep for DTR.
    dtr_contexts: list[DtrContext] = field(default_factory=list)


def _draft_resources(draft_orders: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    entries = draft_orders.get("entry") if isinstance(draft_orders, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") and resource.get("id"):
            out[f"{resource['resourceType']}/{resource['id']}"] = resource
    return out


def _external_medications(draft_orders: Any, selections: Any) -> bool:
    """Whether a draft in scope names its drug only through a Medication outside the
    request (``Medication/x``): then we cannot tell whether it is lenalidomide until the
    prefetch (``_include``d Medications) has been resolved."""
    wanted = set(selections) if isinstance(selections, list) else None
    for ref, resource in _draft_resources(draft_orders).items():
        if wanted is not None and ref not in wanted:
            continue
        reference = resource.get("medicationReference")
        target = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(target, str) and not target.startswith("#"):
            return True
    return False


def _check_lenalidomide_orders(count: int, settings: Settings) -> None:
    if count > settings.max_lenalidomide_orders:
        raise LimitExceeded(
            "context.draftOrders",
            f"more than {settings.max_lenalidomide_orders} lenalidomide orders to judge (CDS_MAX_LENALIDOMIDE_ORDERS)",
        )


def cards_for_case(
    case: CaseFacts,
    draft: dict[str, Any] | None,
    source_label: str,
    hook: str = "order-sign",
    policy: Policy | None = None,
    dose_groups: set[tuple[str, ...]] | None = None,
) -> tuple[list[dict], Any]:
    """The cards of one order. ``dose_groups``: the groups of summed drafts whose dose-limit
    card an earlier order of the same answer already carries (one card names them all)."""
    assessment = assess(case, policy or load_policy())
    clauses = assessment.role_clauses
    rems = judge_rems(case)
    cards: list[dict] = []
    pregnancy = pregnancy_card(case, rems, source_label)
    if pregnancy:
        cards.append(pregnancy)
    generic = generic_substitution_card(case, clauses["generic"], source_label)
    if generic:
        cards.append(generic)
    dose = None
    seen = dose_groups is not None and case.dose_orders in dose_groups
    if assessment.dose_exceeds_ceiling and assessment.dose_ceiling_mg is not None and not seen:
        dose = dose_limit_card(
            case,
            ceiling_mg=assessment.dose_ceiling_mg,
            indication=assessment.indication,
            clause=clauses["dose"],
            source_label=source_label,
        )
        if dose:
            cards.append(dose)
            if case.dose_orders and dose_groups is not None:
                dose_groups.add(case.dose_orders)
    concurrent = concurrent_imid_card(case, clauses["concurrency"], source_label)
    if concurrent:
        cards.append(concurrent)
    cards.append(pa_assessment_card(case, assessment, source_label, rems.pregnancy))
    rems_cards = [rems_card(case, rems, source_label, hook), rems_monitoring_card(case, rems, source_label)]
    cards.extend(card for card in rems_cards if card)
    # On order-select the REMS card speaks of the supply without offering a rewrite: that screen
    # does not show the supply, and the order is signed (and judged again) after it.
    unmet = {s.id for s in rems.steps if s.status == "unmet"} if rems_cards[0] and hook == "order-sign" else set()
    asks = order_update.Asks(
        generic=generic is not None,
        dose_mg=assessment.dose_ceiling_mg if dose and not case.dose_orders else None,
        cycle_text=cycle_text(case),
        supply="days-supply" in unmet,
        refills="refills" in unmet,
    )
    order_update.attach(cards, case, draft, asks)
    return cards, assessment


def evaluate(
    body: dict[str, Any], settings: Settings, issuer: str | None = None, *, fhir_base: str | None = None
) -> Outcome:
    """The answer to a checked request; ``issuer`` is the verified JWT's ``iss`` (None with
    CDS_AUTH=disabled), whose own ``fhirServers`` this call may read from. ``fhir_base`` is where
    our DTR endpoints are published: with it, completed forms in prefetch are read back and
    needs-documentation orders name the form."""
    context = body["context"]
    draft_orders = context.get("draftOrders")
    entries = draft_orders.get("entry") if isinstance(draft_orders, dict) else None
    if isinstance(entries, list) and len(entries) > settings.max_draft_orders:
        raise LimitExceeded(
            "context.draftOrders", f"more than {settings.max_draft_orders} draft orders (CDS_MAX_DRAFT_ORDERS)"
        )
    selections = context.get("selections") if body["hook"] == "order-select" else None
    sent = body.get("prefetch") if isinstance(body.get("prefetch"), dict) else None
    refs = lenalidomide_draft_refs(draft_orders, selections, prefetch=sent)
    _check_lenalidomide_orders(len(refs), settings)
    if not refs and not _external_medications(draft_orders, selections):
        return Outcome(response={"cards": []})

    server = prefetch.allowed_server(body, settings.fhir_servers, issuer)
    resolved = prefetch.resolve(
        body,
        PREFETCH_TEMPLATES,
        server=server,
        executor=settings.executor,
        timeout=settings.fhir_timeout,
        max_pages=settings.fhir_max_pages,
        deadline=settings.hook_deadline,
        max_bytes=settings.fhir_max_bytes,
    )
    if server is None:
        prefetch.log_not_allowed(body, resolved, issuer)
    policy = settings.policy or load_policy()
    questionnaire_url = canonical_url(fhir_base, policy) if fhir_base else None
    cases = build_cases(
        questionnaire_url=questionnaire_url,
        draft_orders=draft_orders,
        selections=selections,
        prefetch=resolved.data,
        unavailable=set(resolved.unavailable),
        now=settings.current_time(),
        user_ref=context.get("userId"),
        plan_overrides=settings.plan_overrides,
    )
    _check_lenalidomide_orders(len(cases), settings)  # drafts known as lenalidomide only once prefetched
    if not cases:
        return Outcome(response={"cards": []}, prefetch_read=sorted(resolved.read_from_server))
    drafts = _draft_resources(draft_orders)
    outcome = Outcome(
        response={"cards": []},
        orders=len(cases),
        prefetch_read=sorted(resolved.read_from_server),
        prefetch_unavailable=sorted(resolved.unavailable),
    )
    system_actions: list[dict[str, Any]] = []
    today = settings.current_time().date()
    crd_config = crd_configuration.requested(body)
    dose_groups: set[tuple[str, ...]] = set()
    for case in cases:
        draft = drafts.get(case.order.ref)
        cards, assessment = cards_for_case(case, draft, settings.source_label, body["hook"], policy, dose_groups)
        outcome.response["cards"].extend(cards)
        if crd_configuration.wants_coverage_information(body["hook"], crd_config):
            documents = (
                fhir_base is not None
                and body["hook"] in PRIMARY_HOOKS
                and assessment.likelihood == "needs-documentation"
            )
            questionnaire = versioned_canonical(fhir_base, policy) if documents and fhir_base else None
            action = coverage_information_action(case, assessment, draft, today, body["hook"], questionnaire)
            if action is not None:
                system_actions.append(action)
                if questionnaire and case.coverage is not None:
                    kept = kept_judgement(case, assessment, assertion_id(case, assessment, today), questionnaire)
                    outcome.dtr_contexts.append(kept)
        outcome.likelihoods.append(assessment.likelihood)
    # CRD configuration (card topics switched off, max-cards); then the findings logged.
    outcome.response["cards"] = crd_configuration.filter_cards(outcome.response["cards"], crd_config)
    outcome.findings.extend(card["extension"]["lenalidomide-cds.finding"]["code"] for card in outcome.response["cards"])
    if system_actions:
        outcome.response["systemActions"] = system_actions
    return outcome
