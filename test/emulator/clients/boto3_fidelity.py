"""boto3 straight against the emulator, on the deviations boto3 and other clients found (issue 15):
an unknown model id, a wrong Bedrock API key, additionalModelResponseFieldPaths, the text at a stop
sequence plain and streamed, and Claude's reasoning. Prints one JSON object for
test/emulator/fidelity-boto3.test.ts to check. argv: the emulator's URL."""
import base64
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url = sys.argv[1]
CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
config = Config(retries={"max_attempts": 1})
signed = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=url, config=config,
                      aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def user(text):
    return [{"role": "user", "content": [{"text": text}]}]


def error_of(call):
    try:
        call()
    except ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"], "status": e.response["ResponseMetadata"].get("HTTPStatusCode")}
    return None


def streamed(**kwargs):
    text, stop, reasoning, signature = "", None, "", ""
    for event in signed.converse_stream(**kwargs)["stream"]:
        delta = event.get("contentBlockDelta", {}).get("delta", {})
        text += delta.get("text", "")
        reasoning += delta.get("reasoningContent", {}).get("text", "")
        signature += delta.get("reasoningContent", {}).get("signature", "")
        stop = event.get("messageStop", stop)
    return {"text": text, "messageStop": stop, "reasoning": reasoning, "signature": signature}


result = {}
result["unknownModel"] = error_of(lambda: signed.converse(modelId="us.does-not-exist-model-v1:0", messages=user("hi")))

# botocore >= 1.39 sends AWS_BEARER_TOKEN_BEDROCK as a Bedrock API key.
os.environ["AWS_BEARER_TOKEN_BEDROCK"] = "not-the-key"
keyed = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=url, config=config)
result["wrongKey"] = error_of(lambda: keyed.converse(modelId=CLAUDE, messages=user("hi")))
del os.environ["AWS_BEARER_TOKEN_BEDROCK"]

stop = {"modelId": CLAUDE, "messages": user("alpha beta STOP gamma"), "inferenceConfig": {"stopSequences": ["STOP"]},
        "additionalModelResponseFieldPaths": ["/delta/stop_sequence"]}
plain = signed.converse(**stop)
result["stopPlain"] = {"text": plain["output"]["message"]["content"][0]["text"], "fields": plain.get("additionalModelResponseFields")}
result["stopStreamed"] = streamed(**stop)

thinking = {"modelId": CLAUDE, "messages": user("Think it over"), "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}}}
answer = signed.converse(**thinking)["output"]["message"]["content"]
result["reasoningPlain"] = {"blocks": [list(block.keys())[0] for block in answer], "reasoning": answer[0]["reasoningContent"]["reasoningText"]}
result["reasoningStreamed"] = streamed(**thinking)
redacted = signed.converse(modelId=CLAUDE, messages=user("ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A13E193C177646C7398A98432ECCCE4C1253D5E2D82641AC0E52CC2876CB"),
                           additionalModelRequestFields=thinking["additionalModelRequestFields"])
blob = redacted["output"]["message"]["content"][0]["reasoningContent"]["redactedContent"]
result["redacted"] = {"type": type(blob).__name__, "bytes": len(blob), "base64": base64.b64encode(blob).decode()[:8]}
print(json.dumps(result))
