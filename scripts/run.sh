#!/usr/bin/env bash
# One command on a fresh machine: install, start the Asterisk sandbox, migrate
# the SQLite database, create the first root account, run ccplane.
set -euo pipefail
cd "$(dirname "$0")/.."
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
exec ccplane serve "$@"
