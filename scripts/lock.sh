#!/usr/bin/env bash
# Regenerate the lock files from pyproject.toml: run it after changing a dependency.
#
#   requirements.lock      the runtime dependencies (what the README's run command installs)
#   requirements-dev.lock  the runtime, test and benchmark dependencies (what .ci/run installs)
#
# Both are pip requirement files with every version pinned and the sha256 of every file PyPI has
# for it (--generate-hashes, --universal: any OS and CPU, Python 3.11 and later), so plain
# `pip install --require-hashes -r ...` installs exactly what was tested and refuses a changed file.
# The runtime lock is resolved within the dev lock, so both agree on every version they share.
# Written by uv (pinned in the dev extra); keeps the versions already locked unless --upgrade or
# --upgrade-package NAME is given (passed on to `uv pip compile`).
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-.venv/bin/uv}"
if ! [ -x "$UV" ]; then
  echo "lock.sh: $UV not found: pip install -e '.[dev]' first (or set UV=path/to/uv)" >&2
  exit 2
fi
compile() {
  "$UV" pip compile pyproject.toml --quiet --generate-hashes --universal --python-version 3.11 \
    --custom-compile-command "bash scripts/lock.sh" "$@"
}
compile --extra dev --extra bench --output-file requirements-dev.lock "${@}"
compile --constraints requirements-dev.lock --output-file requirements.lock
echo "wrote requirements.lock and requirements-dev.lock"
