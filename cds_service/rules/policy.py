"""Load CP.PHAR.71 from its YAML, check it thoroughly, and freeze it.

The policy is read once per process (``load_policy`` is cached). Every mistake a person
editing the YAML can make -- a misspelt test or param, a duplicate or misplaced clause id,
a dose ceiling that disagrees with its clause, a missing line of business -- is refused at
load time with the path of the offending entry, so a bad edit stops the service from
starting instead of producing wrong cards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml

from . import policy_repeats
from .evaluator import Criterion, DetailItem
from .predicates import REGISTRY, check_params

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "cp_phar_71.yaml"

# The cards need these clauses whatever the indication: generic-substitution (generic),
# dose-limit (dose), concurrent-imid (concurrency).
REQUIRED_ROLES = ("concurrency", "generic", "dose")
PATHWAYS = ("initial", "continued")
UNKNOWN_INDICATION = "unknown"

_TOP_KEYS = {
    "policy",
    "title",
    "effective_date",
    "last_review_date",
    "lines_of_business",
    "approval",
    "indications",
    "unknown-indication",
}
_SET_KEYS = {"section", "title", "pathway", "dose_ceiling_mg_per_day", "criteria"}
_CRITERION_KEYS = {"clause", "text", "test", "params", "all_of", "any_of", "role", "reason", "documentable"}
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


class PolicyError(ValueError):
    """The policy YAML is not valid; the message lists every problem found."""


@dataclass(frozen=True)
class ApprovalRule:
    """Approval duration for one pathway and line of business.

    ``capped_by_request``: "12 months or duration of request, whichever is less".
    """

    months: int
    capped_by_request: bool = False

    def months_for(self, requested_months: int | None) -> int:
        if self.capped_by_request and requested_months is not None:
            return min(self.months, requested_months)
        return self.months


@dataclass(frozen=True)
class CriteriaSet:
    """The numbered criteria of one indication (one section of the policy)."""

    name: str  # "multiple-myeloma", ... or "unknown" for the fallback set
    policy_id: str
    section: str  # "I.A"
    title: str
    pathway: str  # "initial" | "continued"
    dose_ceiling_mg_per_day: float | None
    criteria: tuple[Criterion, ...]

    @property
    def clause(self) -> str:
        """The section as a clause id, e.g. ``CP.PHAR.71 I.A``."""
        return f"{self.policy_id} {self.section}"

    @property
    def role_clauses(self) -> Mapping[str, str]:
        """Role (``generic``, ``dose``, ``concurrency``, ...) -> the clause id that plays it."""
        return MappingProxyType({c.role: c.clause for c in self.criteria if c.role})

    def walk(self) -> Iterable[Criterion]:
        for criterion in self.criteria:
            yield from criterion.walk()


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    effective_date: str
    last_review_date: str
    lines_of_business: Mapping[str, str]  # key -> the PDF's name
    approval: Mapping[str, Mapping[str, ApprovalRule]]  # pathway -> line of business -> rule
    indications: Mapping[str, CriteriaSet]  # in the YAML's order
    unknown_indication: CriteriaSet

    def criteria_sets(self) -> tuple[CriteriaSet, ...]:
        return (*self.indications.values(), self.unknown_indication)

    def clause_ids(self) -> tuple[str, ...]:
        return tuple(c.clause for s in self.criteria_sets() for c in s.walk())


@lru_cache(maxsize=8)
def load_policy(path: str | Path | None = None) -> Policy:
    """Read and check the policy YAML (the packaged CP.PHAR.71 by default), once."""
    source = Path(path) if path is not None else DEFAULT_PATH
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PolicyError(f"{source}: not valid YAML: {error}") from error
    return parse_policy(data, source=str(source))


def parse_policy(data: Any, *, source: str = "<policy>") -> Policy:
    """Check ``data`` (the YAML's content) and build the frozen :class:`Policy`."""
    problems: list[str] = []
    policy = _Parser(problems).policy(data)
    if policy is not None:
        problems += policy_repeats.problems(policy)
    if problems or policy is None:
        raise PolicyError(f"{source}: invalid policy:\n  - " + "\n  - ".join(problems or ["empty"]))
    return policy


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


class _Parser:
    """Builds the dataclasses, appending every problem to ``problems`` as it goes."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.policy_id = ""
        self.seen_clauses: dict[str, str] = {}

    def error(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, data: Mapping[str, Any], key: str, where: str) -> str:
        value = data.get(key)
        if isinstance(value, date):
            return value.isoformat()
        if not isinstance(value, str) or not value.strip():
            self.error(where, f"{key!r} must be a non-empty text")
            return ""
        return " ".join(value.split())

    def unexpected(self, data: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in sorted(set(data) - allowed):
            self.error(where, f"unexpected key {key!r} (allowed: {', '.join(sorted(allowed))})")

    def policy(self, data: Any) -> Policy | None:
        if not isinstance(data, Mapping):
            self.error("<top>", "the policy must be a mapping")
            return None
        self.unexpected(data, _TOP_KEYS, "<top>")
        self.policy_id = self.text(data, "policy", "policy")
        lines = self.lines_of_business(data.get("lines_of_business"))
        approval = self.approval(data.get("approval"), lines)
        indications: dict[str, CriteriaSet] = {}
        raw = data.get("indications")
        if not isinstance(raw, Mapping) or not raw:
            self.error("indications", "must be a non-empty mapping of indication name -> criteria set")
            raw = {}
        for name, body in raw.items():
            if not isinstance(name, str) or not _NAME.match(name) or name == UNKNOWN_INDICATION:
                self.error(f"indications.{name}", "indication names are lower-case-with-dashes, not 'unknown'")
                continue
            built = self.criteria_set(name, body, f"indications.{name}", approval)
            if built is not None:
                indications[name] = built
        unknown = self.criteria_set(UNKNOWN_INDICATION, data.get("unknown-indication"), "unknown-indication", approval)
        if unknown is None:
            return None
        return Policy(
            id=self.policy_id,
            title=self.text(data, "title", "title"),
            effective_date=self.text(data, "effective_date", "effective_date"),
            last_review_date=self.text(data, "last_review_date", "last_review_date"),
            lines_of_business=MappingProxyType(lines),
            approval=MappingProxyType({k: MappingProxyType(v) for k, v in approval.items()}),
            indications=MappingProxyType(indications),
            unknown_indication=unknown,
        )

    def lines_of_business(self, data: Any) -> dict[str, str]:
        if not isinstance(data, Mapping) or not data:
            self.error("lines_of_business", "must be a non-empty mapping of key -> name")
            return {}
        return {str(key): self.text(data, key, "lines_of_business") for key in data}

    def approval(self, data: Any, lines: Mapping[str, str]) -> dict[str, dict[str, ApprovalRule]]:
        out: dict[str, dict[str, ApprovalRule]] = {}
        if not isinstance(data, Mapping) or "initial" not in data:
            self.error("approval", "must map pathways (at least 'initial') to durations by line of business")
            return out
        for pathway, rules in data.items():
            where = f"approval.{pathway}"
            if pathway not in PATHWAYS:
                self.error(where, f"unknown pathway (known: {', '.join(PATHWAYS)})")
                continue
            if not isinstance(rules, Mapping):
                self.error(where, "must map each line of business to {months, capped_by_request}")
                continue
            for missing in sorted(set(lines) - set(rules)):
                self.error(where, f"no duration for line of business {missing!r}")
            out[pathway] = {}
            for lob, rule in rules.items():
                if lob not in lines:
                    self.error(f"{where}.{lob}", "not one of lines_of_business")
                    continue
                if not isinstance(rule, Mapping):
                    self.error(f"{where}.{lob}", "must be {months: n}")
                    continue
                self.unexpected(rule, {"months", "capped_by_request"}, f"{where}.{lob}")
                months = rule.get("months")
                capped = rule.get("capped_by_request", False)
                if not isinstance(months, int) or isinstance(months, bool) or months <= 0:
                    self.error(f"{where}.{lob}", "months must be a positive whole number")
                    continue
                if not isinstance(capped, bool):
                    self.error(f"{where}.{lob}", "capped_by_request must be true or false")
                    continue
                out[pathway][lob] = ApprovalRule(months, capped)
        return out

    def criteria_set(self, name: str, data: Any, where: str, approval: Mapping[str, Any]) -> CriteriaSet | None:
        if not isinstance(data, Mapping):
            self.error(where, "must be a mapping with section, title, pathway, criteria")
            return None
        self.unexpected(data, _SET_KEYS, where)
        section = self.text(data, "section", where)
        pathway = data.get("pathway")
        if pathway not in approval:
            self.error(where, f"pathway {pathway!r} has no approval durations")
        ceiling = data.get("dose_ceiling_mg_per_day")
        if ceiling is not None and (not isinstance(ceiling, int | float) or isinstance(ceiling, bool) or ceiling <= 0):
            self.error(where, "dose_ceiling_mg_per_day must be a positive number")
            ceiling = None
        raw = data.get("criteria")
        if not isinstance(raw, list) or not raw:
            self.error(where, "criteria must be a non-empty list")
            raw = []
        prefix = f"{self.policy_id} {section}."
        criteria = tuple(
            built
            for index, item in enumerate(raw)
            if (built := self.criterion(item, f"{where}.criteria[{index}]", prefix, top=True)) is not None
        )
        built_set = CriteriaSet(
            name=name,
            policy_id=self.policy_id,
            section=section,
            title=self.text(data, "title", where),
            pathway=str(pathway),
            dose_ceiling_mg_per_day=float(ceiling) if ceiling is not None else None,
            criteria=criteria,
        )
        self.check_set(built_set, where)
        return built_set

    def check_set(self, built: CriteriaSet, where: str) -> None:
        roles = [c.role for c in built.criteria if c.role]
        for role in sorted({r for r in roles if roles.count(r) > 1}):
            self.error(where, f"role {role!r} is given to more than one criterion")
        for role in REQUIRED_ROLES:
            if role not in roles:
                self.error(where, f"no criterion has role {role!r} (the cards need it)")
        for criterion in built.walk():
            if criterion.test == "daily_dose_at_most":
                limit = criterion.params.get("max_mg_per_day")
                if built.dose_ceiling_mg_per_day is None:
                    self.error(where, f"{criterion.clause} tests a dose but the set has no dose_ceiling_mg_per_day")
                elif limit != built.dose_ceiling_mg_per_day:
                    self.error(
                        where,
                        f"{criterion.clause}: max_mg_per_day {limit} disagrees with "
                        f"dose_ceiling_mg_per_day {built.dose_ceiling_mg_per_day:g}",
                    )

    def criterion(self, data: Any, where: str, prefix: str, *, top: bool = False) -> Criterion | None:
        if not isinstance(data, Mapping):
            self.error(where, "a criterion must be a mapping")
            return None
        self.unexpected(data, _CRITERION_KEYS, where)
        clause = self.text(data, "clause", where)
        text = self.text(data, "text", where)
        if clause:
            where = f"{where} ({clause})"
            if not clause.startswith(prefix):
                self.error(where, f"clause id must start with {prefix!r}")
            if clause in self.seen_clauses:
                self.error(where, f"clause id already used at {self.seen_clauses[clause]}")
            self.seen_clauses.setdefault(clause, where)

        test = data.get("test")
        params = data.get("params", {})
        if test is not None:
            spec = REGISTRY.get(test) if isinstance(test, str) else None
            if spec is None:
                self.error(where, f"unknown test {test!r} (known: {', '.join(sorted(REGISTRY))})")
            elif not isinstance(params, Mapping):
                self.error(where, "params must be a mapping")
            else:
                for problem in check_params(spec, params):
                    self.error(where, f"test {test!r}: {problem}")
        elif "params" in data:
            self.error(where, "params given without a test")
        if not isinstance(params, Mapping):
            params = {}

        combinators: list[Literal["all_of", "any_of"]] = [key for key in ("all_of", "any_of") if key in data]
        if len(combinators) > 1:
            self.error(where, "use all_of or any_of, not both (nest them instead)")
        combinator = combinators[0] if combinators else None
        if combinator is None and test is None:
            self.error(where, "needs a test, or all_of / any_of children")
        children: tuple[Criterion, ...] = ()
        if combinator is not None:
            raw = data[combinator]
            if not isinstance(raw, list) or not raw:
                self.error(where, f"{combinator} must be a non-empty list")
                raw = []
            children = tuple(
                built
                for index, item in enumerate(raw)
                if (built := self.criterion(item, f"{where}.{combinator}[{index}]", f"{clause}.")) is not None
            )

        role = data.get("role")
        if role is not None and (not top or not isinstance(role, str) or not _NAME.match(role)):
            self.error(where, "role is a lower-case name, on top-level criteria only")
        reason = data.get("reason")
        if reason is not None and (combinator is None or not isinstance(reason, str)):
            self.error(where, "reason is a text, on criteria with all_of / any_of only")
        documentable, detail = self.documentable(data.get("documentable", False), where)
        return Criterion(
            clause=clause,
            text=text,
            test=test if isinstance(test, str) else None,
            params=_freeze(params),
            combinator=combinator,
            children=children,
            role=role if isinstance(role, str) else None,
            reason=" ".join(reason.split()) if isinstance(reason, str) else None,
            documentable=documentable,
            detail=detail,
        )

    def documentable(self, value: Any, where: str) -> tuple[bool, DetailItem | None]:
        """``documentable``: true / false, or ``{date: text}`` / ``{value: text, unit: text}``
        for a question with a date or value item beside it."""
        if isinstance(value, bool):
            return value, None
        if isinstance(value, Mapping) and len(set(value) & {"date", "value"}) == 1:
            self.unexpected(value, {"date", "value", "unit"}, f"{where}.documentable")
            kind: Literal["date", "value"] = "date" if "date" in value else "value"
            unit = value.get("unit")
            if "unit" in value and (kind != "value" or not isinstance(unit, str) or not unit.strip()):
                self.error(f"{where}.documentable", "unit is a text, beside value only")
                unit = None
            text = self.text(value, kind, f"{where}.documentable")
            return True, DetailItem(kind, text, unit) if text else None
        self.error(where, "documentable must be true, false, {date: text} or {value: text, unit: text}")
        return False, None
