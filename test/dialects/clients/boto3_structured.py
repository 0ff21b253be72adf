"""boto3's converse(outputConfig=...) against the gateway's Bedrock route, plain and streamed: prints
one JSON object of what each call gave, for test/dialects/structured-output.test.ts to check."""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url, model, schema = sys.argv[1], sys.argv[2], sys.argv[3]
client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=url, config=Config(retries={"max_attempts": 1}))
messages = [{"role": "user", "content": [{"text": "Extract the invoice from ACME for 3 widgets"}]}]
output_config = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": schema, "name": "invoice"}}}}

result = {}
plain = client.converse(modelId=model, messages=messages, outputConfig=output_config)
result["plain"] = {"text": plain["output"]["message"]["content"][0]["text"], "stopReason": plain["stopReason"]}
streamed = client.converse_stream(modelId=model, messages=messages, outputConfig=output_config)
text = ""
for event in streamed["stream"]:
    text += event.get("contentBlockDelta", {}).get("delta", {}).get("text", "")
result["stream"] = {"text": text}
try:
    client.converse(modelId="closed", messages=messages, outputConfig=output_config)
    result["closed"] = None
except ClientError as e:
    result["closed"] = {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}
print(json.dumps(result))
