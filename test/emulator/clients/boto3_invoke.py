"""boto3's invoke_model and invoke_model_with_response_stream straight against the emulator, as
boto3 sends them (no Content-Type, no Accept unless asked): Claude's Message and its token
headers, the stream's chunks decoded, and Bedrock's refusal of a wrong anthropic_version. Prints
one JSON object for test/emulator/invoke-boto3.test.ts to check. argv: the emulator's URL."""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url = sys.argv[1]
CLAUDE = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=url, config=Config(retries={"max_attempts": 1}),
                      aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def body(text, **fields):
    return json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": [{"role": "user", "content": text}], **fields})


plain = client.invoke_model(modelId=CLAUDE, body=body("hello from boto3"))
headers = plain["ResponseMetadata"]["HTTPHeaders"]
message = json.loads(plain["body"].read())

events = []
stream = client.invoke_model_with_response_stream(modelId=CLAUDE, body=body("one two three"))
for event in stream["body"]:
    events.append(json.loads(event["chunk"]["bytes"]))

try:
    client.invoke_model(modelId=CLAUDE, body=body("x", anthropic_version="bedrock-2099-01-01"))
    refused = None
except ClientError as e:
    refused = {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}

print(json.dumps({
    "message": message,
    "contentType": plain["contentType"],
    "tokenHeaders": {k: v for k, v in headers.items() if k.startswith("x-amzn-bedrock-")},
    "streamContentType": stream["contentType"],
    "types": [e["type"] for e in events],
    "text": "".join(e.get("delta", {}).get("text", "") for e in events),
    "metrics": events[-1].get("amazon-bedrock-invocationMetrics"),
    "refused": refused,
}))
