#!/usr/bin/env bash
# One command on a fresh machine: install, start the Asterisk sandbox, migrate
# the SQLite database, create the first root account, then run the demo: a
# living contact center (a carrier sandbox, agents on real SIP phones, calls
# through IVRs and queues, alerts) served by ccplane on 127.0.0.1:8080.
#
#   scripts/run.sh [demo options]      the demo (ccplane demo --help lists them)
#   scripts/run.sh --empty [serve options]   the plain, empty service (ccplane serve)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=demo
if [ "${1:-}" = "--empty" ]; then mode=empty; shift; fi
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ccplane sandbox up
ccplane db upgrade
if [ ! -f .ccplane-root-password ]; then
  pw=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
  if printf '%s\n' "$pw" | ccplane user create --root admin --password-stdin; then
    (umask 077; printf '%s\n' "$pw" > .ccplane-root-password)
  fi
fi
[ -f .ccplane-root-password ] && echo "root account: admin / $(cat .ccplane-root-password)  (kept in .ccplane-root-password)" >&2
# The local sandbox is this checkout's: a new ccplane.db (a new deployment) takes it
# over. With your own Asterisk, leave asterisk.take_over off (see the README).
export CCPLANE_ASTERISK_TAKE_OVER=${CCPLANE_ASTERISK_TAKE_OVER:-1}
if [ "$mode" = empty ]; then
  exec ccplane serve "$@"
fi
exec ccplane demo "$@"
