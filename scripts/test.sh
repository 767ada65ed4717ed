#!/usr/bin/env bash
# The test command (README, .ci/run): install, start the real Asterisk sandbox
# and PostgreSQL, then run the whole suite on SQLite and again on PostgreSQL.
# A component that cannot start is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== Asterisk sandbox" >&2
ccplane sandbox up
ccplane sandbox status

echo "== PostgreSQL" >&2
PG_URL=$(scripts/pg.sh start)
export CCPLANE_TEST_POSTGRES_URL="$PG_URL"  # PostgreSQL-only tests run in the SQLite pass too

# Progress reaches the log as it happens; a hung test fails on its own
# (pytest-timeout, pyproject.toml) and a whole run is bounded too, so CI
# always ends with a summary naming what failed.
export PYTHONUNBUFFERED=1
# 40 min a pass at most (a pass takes about 19 on a 2-core box): both passes and the set-up
# stay within CI's 90 minutes even at the limit
SUITE_LIMIT=${CCPLANE_SUITE_LIMIT:-2400}
# Each pass is also written to a file, so the run can end with a recap of what
# failed: CI may show only the last lines of a long output.
recap_dir=$(mktemp -d)
suite() {
  local name=$1; shift
  timeout -s INT -k 120 "$SUITE_LIMIT" pytest -q -p no:cacheprovider -rfER --durations=10 "$@" \
    2>&1 | tee "$recap_dir/$name.log"
}
status=0
lint=ok
echo "== lint and type-check (ruff, mypy)" >&2
scripts/lint.sh || { status=1; lint=FAILED; }
echo "== tests on SQLite" >&2
suite sqlite "$@" || status=1
echo "== tests on PostgreSQL" >&2
CCPLANE_TEST_DATABASE_URL="$PG_URL" suite postgresql "$@" || status=1
if [ $status -ne 0 ]; then
  echo "== after the failure: the sandbox and the end of its Asterisk log (routine noise left out)" >&2
  ccplane sandbox status || true
  log_dir=$(ccplane sandbox status --json 2>/dev/null | python3 -c \
    'import json,sys,pathlib; print(pathlib.Path(json.load(sys.stdin)["config_dir"]).parent / "log")' || true)
  [ -n "$log_dir" ] && grep -v -E "is not fully reloadable|is not reloadable|sending OPTIONS request" \
    "$log_dir/messages.log" 2>/dev/null | tail -n 25 || true
fi
echo "== recap" >&2
echo "lint and type-check: $lint"
for name in sqlite postgresql; do
  echo "-- tests on $name:"
  grep -E "^(FAILED|ERROR|RERUN) |(passed|failed|error|errors|rerun).* in [0-9.]+s|Timeout|watchdog" \
    "$recap_dir/$name.log" 2>/dev/null | tail -n 15 || echo "(no output)"
done
exit $status
