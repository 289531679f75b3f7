"""The lock files hold every dependency pyproject.toml declares, at a version it allows.

CI (``.ci/run``) and the README's run command install from the lock files, not from pyproject.toml,
so a dependency added to pyproject.toml but not locked would be missing there. Whoever adds one
sees this fail with the command that mends it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MEND = "run: bash scripts/lock.sh"
# A pinned line of a pip requirements file: ``name==version`` then markers or a line continuation.
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)
HASHED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[^\n]*\\\n\s+--hash=sha256:[0-9a-f]{64}", re.MULTILINE)


def _locked(name: str) -> dict[str, set[Version]]:
    text = (ROOT / name).read_text(encoding="utf-8")
    out: dict[str, set[Version]] = {}
    for package, version in PINNED.findall(text):
        out.setdefault(canonicalize_name(package), set()).add(Version(version))
    return out


def _declared(*extras: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements.lock", ()), ("requirements-dev.lock", ("dev", "bench"))],
)
def test_every_declared_dependency_is_locked_at_an_allowed_version(lock, extras):
    locked = _locked(lock)
    problems = []
    for requirement in _declared(*extras):
        versions = locked.get(canonicalize_name(requirement.name))
        if not versions:
            problems.append(f"{requirement.name} is missing")
        elif not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            problems.append(f"{requirement} but {lock} has {', '.join(map(str, sorted(versions)))}")
    assert not problems, f"{lock} is out of date with pyproject.toml ({'; '.join(problems)}): {MEND}"


def test_every_locked_version_carries_its_hashes():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text(encoding="utf-8")
        assert len(HASHED.findall(text)) == len(PINNED.findall(text)) > 0, f"{lock} lacks hashes: {MEND}"


def test_the_runtime_lock_holds_no_test_tool():
    """The README's run command installs requirements.lock: the service's, not the tests' tools."""
    runtime = set(_locked("requirements.lock"))
    tools = {canonicalize_name(r.name) for r in _declared("dev", "bench")} - {
        canonicalize_name(r.name) for r in _declared()
    }
    assert not runtime & tools, f"test tools in requirements.lock: {sorted(runtime & tools)}: {MEND}"


def test_the_runtime_and_dev_locks_agree_on_shared_versions():
    runtime, dev = _locked("requirements.lock"), _locked("requirements-dev.lock")
    differ = {name: (runtime[name], dev.get(name)) for name in runtime if runtime[name] != dev.get(name)}
    assert not differ, f"the locks disagree: {differ}: {MEND}"
