#!/usr/bin/env bash
# Installs what ccplane and its tests need on a fresh Debian 12 machine:
# Debian packages (debootstrap for the Asterisk sandbox, PostgreSQL, baresip,
# espeak-ng + sox for pt-BR prompts, sip-tester (SIPp) for bench/sip_load.py) and the
# Python package in ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS="debootstrap postgresql baresip-core espeak-ng sox libsox-fmt-mp3 sip-tester ca-certificates chromium"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)" >&2
  $PY -m venv .venv
fi
stamp=.venv/.ccplane-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/constraints.txt -nt "$stamp" ]; then
  echo "setup: installing ccplane and its dependencies into .venv" >&2
  .venv/bin/pip install -q --upgrade pip >/dev/null
  # within the versions the suite last passed with
  .venv/bin/pip install -q -c scripts/constraints.txt -e '.[dev]'
  touch "$stamp"
fi
