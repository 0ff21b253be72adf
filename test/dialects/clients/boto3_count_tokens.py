"""boto3's count_tokens against the gateway's Bedrock route, as Anthropic's Python SDK and
pydantic-ai send it (an InvokeModel body, base64 in `input.invokeModel.body`), with the inference
profile id Claude Code's clients use; and with Converse input (pydantic-ai's), for that client and
for one with an operator's system prompt.
Prints one JSON object for test/dialects/count-tokens.test.ts. argv: the gateway's URL, the model id."""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url, model = sys.argv[1], sys.argv[2]
client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=url, config=Config(retries={"max_attempts": 1}))
body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 4096, "system": "You are helpful.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "How many tokens is this sentence?"}]}]}
out = {"invoke": client.count_tokens(modelId=model, input={"invokeModel": {"body": json.dumps(body).encode()}})["inputTokens"]}
hello = {"converse": {"messages": [{"role": "user", "content": [{"text": "Hello, world!"}]}], "system": []}}
out["converse"] = client.count_tokens(modelId=model, input=hello)["inputTokens"]
out["guarded"] = client.count_tokens(modelId="guarded", input=hello)["inputTokens"]
try:
    client.count_tokens(modelId=model, input={"converse": {"messages": []}})
except ClientError as error:
    out["refused"] = {"code": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}
print(json.dumps(out))
