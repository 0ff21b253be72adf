"""OpenAI's Chat Completions through the gateway with Python's standard library only: one plain
call, then one streamed call read line by line. GATEWAY_URL and GATEWAY_KEY say where and as whom."""
import json
import os
import sys
import urllib.error
import urllib.request

URL = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080") + "/v1/chat/completions"
KEY = os.environ.get("GATEWAY_KEY", "demo")


def call(body):
    request = urllib.request.Request(URL, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    try:
        return urllib.request.urlopen(request)
    except urllib.error.HTTPError as error:
        sys.exit(f"{error.code}: {json.load(error)['error']}")


messages = [{"role": "user", "content": "Hello from Python"}]
with call({"model": "claude", "messages": messages}) as response:
    answer = json.load(response)
choice = answer["choices"][0]
print(f"plain: {choice['message']['content']} ({choice['finish_reason']}, {answer['usage']['total_tokens']} tokens)")

text, finish, usage = "", None, None
with call({"model": "claude", "messages": messages, "stream": True, "stream_options": {"include_usage": True}}) as response:
    for line in response:
        line = line.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[len("data: "):])
        if "error" in chunk:
            sys.exit(f"stream failed: {chunk['error']}")
        for choice in chunk["choices"]:
            text += choice["delta"].get("content") or ""
            finish = choice["finish_reason"] or finish
        usage = chunk.get("usage") or usage
print(f"streamed: {text} ({finish}, {usage['total_tokens']} tokens)")
