"""boto3 against the gateway's Bedrock routes, unchanged but for endpoint_url and the key
(AWS_BEARER_TOKEN_BEDROCK, read from the environment by botocore >= 1.39). Prints one JSON
object of what each call gave, for test/dialects/clients.test.ts to check."""
import json
import sys

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

url = sys.argv[1]
client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=url, config=Config(retries={"max_attempts": 1}))


def user(text):
    return [{"role": "user", "content": [{"text": text}]}]


def stream_text(model, text):
    answer = client.converse_stream(modelId=model, messages=user(text))
    out, kinds = "", []
    for event in answer["stream"]:
        kinds.extend(event.keys())
        out += event.get("contentBlockDelta", {}).get("delta", {}).get("text", "")
    return out, kinds


def error_of(call):
    try:
        call()
    except EventStreamError as e:  # a ClientError too: caught first
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"], "inStream": True}
    except ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"], "status": e.response["ResponseMetadata"].get("HTTPStatusCode")}
    return None


result = {"botocore": botocore.__version__}
plain = client.converse(modelId="main", messages=user("hello from boto3"))
result["plain"] = {"text": plain["output"]["message"]["content"][0]["text"], "stopReason": plain["stopReason"], "requestId": plain["ResponseMetadata"]["RequestId"]}
text, kinds = stream_text("main", "streamed from boto3")
result["stream"] = {"text": text, "kinds": kinds}
text, kinds = stream_text("main", "[emulator:echo ttft_ms=700] slow boto3")
result["quiet"] = {"text": text, "kinds": kinds}
result["beforeStream"] = error_of(lambda: client.converse_stream(modelId="main", messages=user("[emulator:throttling] hi")))
result["inStream"] = error_of(lambda: stream_text("main", "[emulator:stream-throttling after=2] one two three"))
result["capped"] = error_of(lambda: client.converse(modelId="main", messages=user("hi"), inferenceConfig={"maxTokens": 9000}))
result["unknownModel"] = error_of(lambda: client.converse(modelId="gpt-4", messages=user("hi")))
print(json.dumps(result))
