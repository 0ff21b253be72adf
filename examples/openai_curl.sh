#!/usr/bin/env bash
# OpenAI's Chat Completions through the gateway with curl: one plain call, then one streamed call
# (`data:` lines as they arrive, ending with `data: [DONE]`). GATEWAY_URL and GATEWAY_KEY say where
# and as whom; `model` names one of your clients.
set -euo pipefail
url="${GATEWAY_URL:-http://127.0.0.1:8080}"
key="${GATEWAY_KEY:-demo}"

echo '--- plain call' >&2
curl -sS --fail-with-body "$url/v1/chat/completions" \
  -H "Authorization: Bearer $key" \
  -H 'content-type: application/json' \
  -d '{"model": "claude", "messages": [{"role": "user", "content": "Hello from curl"}]}'
echo

echo '--- streamed call' >&2
curl -sS -N --fail-with-body "$url/v1/chat/completions" \
  -H "Authorization: Bearer $key" \
  -H 'content-type: application/json' \
  -d '{"model": "claude", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "Hello from curl, streamed"}]}'
