#!/usr/bin/env bash
# Calls the gateway with curl: one plain call (a JSON answer), then one streamed call (server-sent
# events, printed as they arrive). GATEWAY_URL and GATEWAY_KEY say where and as whom.
set -euo pipefail
url="${GATEWAY_URL:-http://127.0.0.1:8080}"
key="${GATEWAY_KEY:-demo}"

echo '--- plain call' >&2
curl -sS --fail-with-body "$url/v1/converse" \
  -H "Authorization: Bearer $key" \
  -H 'content-type: application/json' \
  -d '{"messages": [{"role": "user", "content": "Hello from curl"}]}'
echo

echo '--- streamed call' >&2
# -N: no buffering, so each event shows the moment it arrives.
curl -sS -N --fail-with-body "$url/v1/converse" \
  -H "Authorization: Bearer $key" \
  -H 'content-type: application/json' \
  -d '{"stream": true, "messages": [{"role": "user", "content": "Hello from curl, streamed"}]}'
