"""``lenalidomide-cds policy``: check a policy file, and show what an edit changes before it is deployed.

``policy check [FILE]`` loads a policy exactly as the service does at start (``rules/policy.py``; the
file is ``CDS_POLICY_FILE`` when set, else the packaged CP.PHAR.71) and prints every problem at once, or
a summary of the numbers a reviewer checks (the dose ceilings, the continued-therapy ceilings).

``policy diff OLD NEW [REQUEST ...]`` judges every hook request (the sample bundles by default) under
both policies and prints, per lenalidomide order, the decisions that differ: the prior-authorization
likelihood, each numbered criterion's status, the approval months, and the cards answered. Requests are
judged on the prefetch they carry: nothing is read from their ``fhirServer``.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from ..cards.common import FINDING_KEY
from ..hooks.discovery import SERVICES
from ..hooks.engine import Settings, evaluate
from ..hooks.prefetch import PrefetchError
from ..rules.policy import DEFAULT_PATH, Policy, PolicyError, load_policy
from ..web import config

SAMPLES = Path(__file__).resolve().parents[2] / "sample_bundles"
_HOOKS = {service.hook for service in SERVICES.values()}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("policy", help="check a policy file; show what an edit changes (diff)")
    commands = parser.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    check = commands.add_parser("check", help="load a policy as the service does and report every problem")
    check.add_argument("file", nargs="?", type=Path, help="the policy YAML (default: CDS_POLICY_FILE, else packaged)")
    check.set_defaults(handler=run_check)
    diff = commands.add_parser("diff", help="judge requests under two policies and print the decisions that change")
    diff.add_argument("old", type=Path, help="the policy in force")
    diff.add_argument("new", type=Path, help="the edited policy")
    diff.add_argument(
        "requests", nargs="*", type=Path, help="hook request JSON files or folders (default: the sample bundles)"
    )
    diff.add_argument(
        "--as-of", type=date.fromisoformat, help="judge as on this date (YYYY-MM-DD; default: today, UTC)"
    )
    diff.set_defaults(handler=run_diff)


# --- check ----------------------------------------------------------------------------------------


def _configured_policy() -> Path:
    """The file the service would load: ``CDS_POLICY_FILE`` when set, else the packaged policy."""
    configured = config.load().get("CDS_POLICY_FILE")
    return Path(configured) if configured else DEFAULT_PATH


def run_check(args: argparse.Namespace) -> int:
    try:
        path = args.file or _configured_policy()
        policy = load_policy(path)
    except config.ConfigurationError as exc:
        print(f"lenalidomide-cds policy check: {exc}", file=sys.stderr)
        return 2
    except (OSError, PolicyError) as exc:
        print(_problems(exc, path), file=sys.stderr)
        return 1
    sets, clauses = len(policy.criteria_sets()), len(policy.clause_ids())
    print(f"{_shown(path)}: {policy.id} is valid: {sets} criteria sets, {clauses} clauses")
    for criteria in policy.criteria_sets():
        ceiling = f"{criteria.dose_ceiling_mg_per_day:g} mg/day" if criteria.dose_ceiling_mg_per_day else "-"
        print(f"  {criteria.clause:<16} {criteria.name:<26} {criteria.pathway:<10} dose ceiling {ceiling}")
    return 0


def _problems(exc: Exception, path: Path) -> str:
    if isinstance(exc, OSError):
        return f"{path}: cannot be read: {exc.strerror or exc}"
    return str(exc)


# --- diff -----------------------------------------------------------------------------------------


@dataclass
class Decision:
    """What one request's answer decided for one lenalidomide order."""

    likelihood: str | None = None
    approval_months: int | None = None
    criteria: dict[str, str] = field(default_factory=dict)  # clause -> status
    cards: list[str] = field(default_factory=list)  # "finding-code: summary"


def run_diff(args: argparse.Namespace) -> int:
    try:
        old, new = (load_policy(path) for path in (args.old, args.new))
    except (OSError, PolicyError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    requests = _request_files(args.requests or [SAMPLES])
    as_of = args.as_of or datetime.now(UTC).date()
    now = datetime.combine(as_of, time(12, 0), tzinfo=UTC)
    changed = judged = 0
    with ThreadPoolExecutor(max_workers=1) as executor:
        for path in requests:
            body = _hook_request(path)
            if body is None:
                print(f"{_shown(path)}: skipped, not a CDS Hooks request for this service", file=sys.stderr)
                continue
            judged += 1
            before, after = (_decisions(body, policy, executor, now) for policy in (old, new))
            lines = _changes(before, after)
            if lines:
                changed += 1
                print(f"{_shown(path)} ({body['hook']})")
                print("\n".join(f"  {line}" for line in lines))
    print(f"{judged} requests judged as of {as_of}, {changed} with a changed decision ({args.old} -> {args.new})")
    return 1 if changed else 0


def _shown(path: Path) -> Path:
    """The path relative to the working directory when it is under it (shorter lines)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _request_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


def _hook_request(path: Path) -> dict[str, Any] | None:
    """The request without its fhirServer (nothing is read over the network), or None if not a hook request."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("hook") not in _HOOKS or not isinstance(body.get("context"), dict):
        return None
    return {key: value for key, value in body.items() if key not in {"fhirServer", "fhirAuthorization"}}


def _decisions(body: dict[str, Any], policy: Policy, executor: ThreadPoolExecutor, now: datetime) -> dict[str, Any]:
    """Order reference -> :class:`Decision`, or {"*": reason} when the request cannot be judged."""
    settings = Settings(
        source_label="policy diff",
        fhir_timeout=1.0,
        fhir_max_pages=1,
        executor=executor,
        now=lambda: now,
        policy=policy,
    )
    try:
        response = evaluate(body, settings).response
    except PrefetchError as exc:
        return {"*": f"not judged: needs {', '.join(exc.missing)}"}
    decisions: dict[str, Decision] = {}
    for card in response.get("cards", []):
        finding = card.get("extension", {}).get(FINDING_KEY, {})
        for order in finding.get("orders") or ["(no order)"]:
            decision = decisions.setdefault(order, Decision())
            decision.cards.append(f"{finding.get('code')}: {card.get('summary')}")
            if finding.get("code") == "pa-assessment":
                decision.likelihood = finding.get("likelihood")
                decision.approval_months = finding.get("approvalMonths")
                decision.criteria = {c["clause"]: c["status"] for c in finding.get("criteria", [])}
    return decisions


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for order in sorted(set(before) | set(after)):
        old, new = before.get(order), after.get(order)
        if not isinstance(old, Decision) or not isinstance(new, Decision):
            if old != new:
                lines.append(f"{order}: {old or 'no decision'} -> {new or 'no decision'}")
            continue
        found = []
        if old.likelihood != new.likelihood:
            found.append(f"likelihood: {old.likelihood} -> {new.likelihood}")
        if old.approval_months != new.approval_months:
            found.append(f"approval: {old.approval_months} -> {new.approval_months} months")
        for clause in [*old.criteria, *(c for c in new.criteria if c not in old.criteria)]:
            was, now = old.criteria.get(clause, "absent"), new.criteria.get(clause, "absent")
            if was != now:
                found.append(f"{clause}: {was} -> {now}")
        found += [f"- card {card}" for card in old.cards if card not in new.cards]
        found += [f"+ card {card}" for card in new.cards if card not in old.cards]
        if found:
            lines.append(f"{order}:")
            lines += [f"  {line}" for line in found]
    return lines
