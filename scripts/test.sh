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

echo "== tests on SQLite" >&2
pytest -q -p no:cacheprovider "$@"
echo "== tests on PostgreSQL" >&2
CCPLANE_TEST_DATABASE_URL="$PG_URL" pytest -q -p no:cacheprovider "$@"
