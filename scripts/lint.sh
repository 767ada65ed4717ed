#!/usr/bin/env bash
# Lint (ruff, whole tree) and type-check (mypy: strict for the protocol code in
# ccplane/asterisk/, every feature's pure domain.py, the bus, the plugin wiring
# and the calls feature; see [tool.mypy] in pyproject.toml). scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/.venv/bin:$PATH"
ruff check ccplane tests bench scripts
mods=(-p ccplane.asterisk -m ccplane.bus -m ccplane.plugin -p ccplane.features.calls)
for f in ccplane/features/*/domain.py; do
  m=${f%.py}; m=${m//\//.}
  [ "$m" = ccplane.features.calls.domain ] || mods+=(-m "$m")
done
mypy --follow-imports=silent "${mods[@]}"
