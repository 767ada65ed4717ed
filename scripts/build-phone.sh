#!/bin/sh
# Rebuild the vendored JsSIP bundle the agent screen's phone loads
# (ccplane/web/pages/static/vendor/jssip/jssip.min.js). JsSIP ships CommonJS only:
# esbuild bundles it once into a browser global `JsSIP`. Versions are pinned in
# scripts/phone/package.json and, with every library JsSIP pulls in and their
# integrity hashes, in scripts/phone/package-lock.json (`npm ci` installs exactly
# that tree); the output is committed, the pages never use a CDN. Rebuilding
# gives the committed file byte for byte (sha256 in its VENDORED.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../ccplane/web/pages/static/vendor/jssip"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/phone/package.json" "$here/phone/package-lock.json" "$here/phone/entry.js" "$work/"
cd "$work"
npm ci --no-audit --no-fund
node node_modules/esbuild/install.js
node_modules/.bin/esbuild entry.js --bundle --format=iife --global-name=JsSIP --minify \
  --legal-comments=inline --target=es2017 --outfile="$out/jssip.min.js"
cp node_modules/jssip/LICENSE.md "$out/LICENSE.md"
sha256sum "$out/jssip.min.js"
