#!/usr/bin/env python3
"""Calls the gateway from Python with the standard library only: a plain call, then a streamed
call whose server-sent events are read line by line. GATEWAY_URL and GATEWAY_KEY say where and
as whom."""
import json
import os
import sys
import urllib.error
import urllib.request

URL = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("GATEWAY_KEY", "demo")


def request(body):
    return urllib.request.Request(
        f"{URL}/v1/converse",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        method="POST",
    )


def events(response):
    """Yields (event, data) for each server-sent event; comment lines (heartbeats) are skipped."""
    name, data = None, []
    for raw in response:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":  # a blank line ends an event
            if data:
                yield name or "message", json.loads("\n".join(data))
            name, data = None, []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)


def main():
    try:
        # A plain call: one JSON answer.
        with urllib.request.urlopen(request({"messages": [{"role": "user", "content": "Hello from Python"}]})) as response:
            answer = json.load(response)
        print(f"plain: {answer['text']} ({answer['stopReason']}, {answer['usage']['totalTokens']} tokens)")

        # A streamed call: print each piece of text the moment it arrives.
        body = {"stream": True, "messages": [{"role": "user", "content": "Hello from Python, streamed"}]}
        with urllib.request.urlopen(request(body)) as response:
            print("streamed: ", end="", flush=True)
            for event, data in events(response):
                if event == "contentBlockDelta" and "text" in data["delta"]:
                    print(data["delta"]["text"], end="", flush=True)
                elif event == "done":  # the terminal event of a stream that succeeded
                    print(f" ({data['stopReason']}, {data['usage']['totalTokens']} tokens)")
                elif event == "error":  # the terminal event of a stream that failed after it began
                    print(f"\nerror: {data['error']['type']}: {data['error']['message']}", file=sys.stderr)
                    return 1
    except urllib.error.HTTPError as failure:
        # Failures before a stream begins are plain HTTP errors with the gateway's JSON error.
        error = json.load(failure)["error"]
        print(f"error {failure.code}: {error['type']}: {error['message']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
