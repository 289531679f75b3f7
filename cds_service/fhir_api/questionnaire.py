"""The DTR Questionnaire, generated from the loaded policy (no hand-written form).

One question per criterion the policy YAML marks ``documentable``: a boolean whose ``linkId``
is the clause id (an alternative folded into a criterion keeps its own clause id) and whose
text is the policy's wording, with a date or value item beside it where the YAML asks for one.
An undocumentable criterion with documentable alternatives becomes a group (its own clause
id) holding them, so each alternative reads under its stem.

Two items lead the form, pre-filled by the payer from its judgement and editable: the
indication and the pathway. Each indication's section (I.A ... I.F, and I for an indication
not on record) is shown only for that indication on the initial pathway; continued therapy
(II.A) is one section, shown on the continued pathway whatever the indication, so every
linkId is unique.

The ``version`` is a digest of the loaded policy's content: any change to the policy (a new
``CDS_POLICY_FILE`` included) gives a new version, and the same content always the same one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from ..rules.assessment import CONTINUED_SET
from ..rules.evaluator import Criterion
from ..rules.policy import UNKNOWN_INDICATION, CriteriaSet, Policy

DTR = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/"
STD_QUESTIONNAIRE_PROFILE = DTR + "dtr-std-questionnaire"
INDICATION_ITEM = "indication"
PATHWAY_ITEM = "pathway"
OTHER_INDICATION = "other"
_PATHWAYS = {"initial": "Initial therapy (section I)", "continued": "Continued therapy (section II)"}


def questionnaire_id(policy: Policy) -> str:
    """Stable across policy versions: the policy id in lower case (``cp-phar-71``)."""
    return re.sub(r"[^a-z0-9]+", "-", policy.id.lower()).strip("-")


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


# Policies are loaded once per process (``load_policy`` is cached) and never change: each
# one's version is computed once. Keyed by identity (a Policy holds mappings: not hashable).
_VERSIONS: dict[int, tuple[Policy, str]] = {}


def policy_version(policy: Policy) -> str:
    """``<last review>-<12 hex of SHA-256 over the policy's content>``: changes with the policy."""
    known = _VERSIONS.get(id(policy))
    if known is not None and known[0] is policy:
        return known[1]
    content = json.dumps(_plain(policy), sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    version = f"{policy.last_review_date}-{digest[:12]}"
    _VERSIONS[id(policy)] = (policy, version)
    return version


def canonical_url(fhir_base: str, policy: Policy) -> str:
    return f"{fhir_base.rstrip('/')}/Questionnaire/{questionnaire_id(policy)}"


def versioned_canonical(fhir_base: str, policy: Policy) -> str:
    return f"{canonical_url(fhir_base, policy)}|{policy_version(policy)}"


def short_clause(policy: Policy, clause: str) -> str:
    return clause.removeprefix(f"{policy.id} ")


def indication_coding(policy: Policy, name: str) -> dict[str, str]:
    """The answer coding of the indication item (codes are the contract's indication names)."""
    if name in policy.indications:
        display = f"{policy.indications[name].title} ({policy.indications[name].section})"
    elif name == UNKNOWN_INDICATION:
        display = f"{policy.unknown_indication.title}"
    else:
        display = "Another indication (not covered under this policy: I.G / III)"
    return {"code": name, "display": display}


def pathway_coding(pathway: str) -> dict[str, str]:
    return {"code": pathway, "display": _PATHWAYS.get(pathway, pathway)}


def indication_names(policy: Policy) -> list[str]:
    names = [name for name in policy.indications if name != CONTINUED_SET]
    return [*names, UNKNOWN_INDICATION, OTHER_INDICATION]


def _has_question(criterion: Criterion) -> bool:
    return any(c.documentable for c in criterion.walk())


def _items(policy: Policy, criterion: Criterion) -> list[dict[str, Any]]:
    """The question (and its date / value item) for a documentable criterion; a group for a
    criterion whose alternatives are; nothing otherwise."""
    if criterion.documentable:
        question = {
            "linkId": criterion.clause,
            "prefix": short_clause(policy, criterion.clause),
            "text": criterion.text,
            "type": "boolean",
        }
        if criterion.detail is None:
            return [question]
        detail = criterion.detail
        unit = f" ({detail.unit})" if detail.unit else ""
        return [
            question,
            {
                "linkId": f"{criterion.clause}/{detail.kind}",
                "text": f"{detail.text}{unit}",
                "type": "date" if detail.kind == "date" else "decimal",
                "enableWhen": [{"question": criterion.clause, "operator": "=", "answerBoolean": True}],
            },
        ]
    if not _has_question(criterion):
        return []
    return [
        {
            "linkId": criterion.clause,
            "prefix": short_clause(policy, criterion.clause),
            "text": criterion.text,
            "type": "group",
            "item": [item for child in criterion.children for item in _items(policy, child)],
        }
    ]


def _section(policy: Policy, criteria_set: CriteriaSet, enable_when: list[dict[str, Any]]) -> dict[str, Any] | None:
    items = [item for criterion in criteria_set.criteria for item in _items(policy, criterion)]
    if not items:
        return None
    section: dict[str, Any] = {
        "linkId": criteria_set.clause,
        "prefix": criteria_set.section,
        "text": criteria_set.title,
        "type": "group",
        "enableWhen": enable_when,
        "item": items,
    }
    if len(enable_when) > 1:
        section["enableBehavior"] = "all"
    return section


def _when(question: str, coding: Mapping[str, str]) -> dict[str, Any]:
    return {"question": question, "operator": "=", "answerCoding": {"code": coding["code"]}}


def build_questionnaire(policy: Policy, fhir_base: str, publisher: str) -> dict[str, Any]:
    """The Questionnaire resource (R4 JSON) for ``policy``, published under ``fhir_base``."""
    initial = _when(PATHWAY_ITEM, pathway_coding("initial"))
    sections: list[dict[str, Any]] = []
    for name in indication_names(policy):
        criteria_set = policy.unknown_indication if name == UNKNOWN_INDICATION else policy.indications.get(name)
        if criteria_set is None:
            continue
        section = _section(policy, criteria_set, [_when(INDICATION_ITEM, indication_coding(policy, name)), initial])
        if section:
            sections.append(section)
    continued = policy.indications.get(CONTINUED_SET)
    if continued is not None:
        section = _section(policy, continued, [_when(PATHWAY_ITEM, pathway_coding("continued"))])
        if section:
            sections.append(section)
    return {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(policy),
        "meta": {"profile": [STD_QUESTIONNAIRE_PROFILE]},
        "url": canonical_url(fhir_base, policy),
        "version": policy_version(policy),
        "name": re.sub(r"[^A-Za-z0-9]", "", policy.id) + "Documentation",
        "title": f"{policy.id} {policy.title}: prior authorization documentation",
        "status": "active",
        "subjectType": ["Patient"],
        "date": policy.last_review_date,
        "publisher": publisher,
        "description": (
            f"Generated from policy {policy.id} ({policy.title}): one yes/no question per criterion that "
            "documentation can settle, its linkId the clause id and its text the policy's wording. The payer "
            "pre-fills the indication, the pathway and what the record already shows."
        ),
        "effectivePeriod": {"start": policy.effective_date},
        "item": [
            {
                "linkId": INDICATION_ITEM,
                "text": "Indication for lenalidomide (pre-filled from the record; change it if it is wrong)",
                "type": "choice",
                "required": True,
                "answerOption": [{"valueCoding": indication_coding(policy, name)} for name in indication_names(policy)],
            },
            {
                "linkId": PATHWAY_ITEM,
                "text": "Initial or continued therapy (pre-filled from the record; change it if it is wrong)",
                "type": "choice",
                "required": True,
                "answerOption": [{"valueCoding": pathway_coding(p)} for p in _PATHWAYS],
            },
            *sections,
        ],
    }
