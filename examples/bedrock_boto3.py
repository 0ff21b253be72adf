# boto3 through the gateway: only the endpoint and the key change (botocore 1.39 or later reads a
# Bedrock API key from AWS_BEARER_TOKEN_BEDROCK; here it is the gateway key).
import os

import boto3

os.environ.setdefault("AWS_BEARER_TOKEN_BEDROCK", os.environ.get("GATEWAY_KEY", "demo"))
bedrock = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080"))
messages = [{"role": "user", "content": [{"text": "Hello from boto3"}]}]

answer = bedrock.converse(modelId="claude", messages=messages)
print(f"plain: {answer['output']['message']['content'][0]['text']} ({answer['stopReason']})")

text, stop = "", None
for event in bedrock.converse_stream(modelId="claude", messages=messages)["stream"]:
    text += event.get("contentBlockDelta", {}).get("delta", {}).get("text", "")
    stop = event.get("messageStop", {}).get("stopReason", stop)
print(f"streamed: {text} ({stop})")
