"""boto3 on the gateway's Bedrock Invoke routes, unchanged but for endpoint_url and the key
(AWS_BEARER_TOKEN_BEDROCK): invoke_model and invoke_model_with_response_stream with Claude's body
(boto3 sends no Content-Type), a refusal, and count_tokens as Anthropic's Python SDK and pydantic-ai
send it (an InvokeModel body, base64 in `input.invokeModel.body`; Converse input, for that client
and for one with an operator's system prompt), with the inference profile id Claude Code's clients
use. Prints one JSON object for test/dialects/boto3-invoke.test.ts. argv: the gateway's URL, the model id."""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url, model = sys.argv[1], sys.argv[2]
client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=url, config=Config(retries={"max_attempts": 1}))
body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 4096, "system": "You are helpful.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "How many tokens is this sentence?"}]}]}
plain = client.invoke_model(modelId=model, body=json.dumps({**body, "max_tokens": 100}))
out = {"message": json.loads(plain["body"].read()), "tokenHeaders": {k: v for k, v in plain["ResponseMetadata"]["HTTPHeaders"].items() if k.startswith("x-amzn-bedrock-")}}
events = [json.loads(e["chunk"]["bytes"]) for e in client.invoke_model_with_response_stream(modelId=model, body=json.dumps({**body, "max_tokens": 100}))["body"]]
out["types"] = [e["type"] for e in events]
out["text"] = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
try:
    client.invoke_model(modelId="somebody-elses-model", body=json.dumps(body))
except ClientError as error:
    out["unknownModel"] = {"code": error.response["Error"]["Code"], "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
out["invoke"] = client.count_tokens(modelId=model, input={"invokeModel": {"body": json.dumps(body).encode()}})["inputTokens"]
hello = {"converse": {"messages": [{"role": "user", "content": [{"text": "Hello, world!"}]}], "system": []}}
out["converse"] = client.count_tokens(modelId=model, input=hello)["inputTokens"]
out["guarded"] = client.count_tokens(modelId="guarded", input=hello)["inputTokens"]
try:
    client.count_tokens(modelId=model, input={"converse": {"messages": []}})
except ClientError as error:
    out["refused"] = {"code": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}
print(json.dumps(out))
