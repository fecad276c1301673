#!/bin/sh
# Rebuilds assets/plotly-traces.min.js: plotly.js with only the trace types the app draws
# (scripts/plotly/entry.js), ≈550 KB gzipped against 1.4 MB for the full bundle. dcc.Graph
# uses window.Plotly when a page defines it and then never fetches its own bundle.
# Keep the plotly.js version equal to the one the installed plotly package ships
# (head -c 40 .venv/lib/python3.11/site-packages/plotly/package_data/plotly.min.js).
set -eu
PLOTLY_JS=4.1.1
ESBUILD=0.28.2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/entry.js" "$work/"
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "plotly.js@$PLOTLY_JS" "esbuild@$ESBUILD"
# (a stylesheet the map traces import lands in out.css, which the app does not use)
./node_modules/.bin/esbuild entry.js --bundle --minify --target=es2018 --define:global=window --log-level=error \
  --outfile=out.js
{
  printf '/*! plotly.js v%s (MIT license, Copyright Plotly, Inc.): the trace types of scripts/plotly/entry.js */\n' "$PLOTLY_JS"
  cat out.js
} > "$root/assets/plotly-traces.min.js"
ls -l "$root/assets/plotly-traces.min.js"
