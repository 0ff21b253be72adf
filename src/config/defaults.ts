// Values used when the config file leaves an option out, in one place so code, tests and the example agree.
import type { OverridableField, Role } from './types.js'

/** Defaults of every optional config key, in the file's snake_case. */
export const DEFAULTS = {
  server: {
    // Loopback unless the operator opts in to listening on other interfaces.
    host: '127.0.0.1',
    port: 8080,
    // Converse bodies carry base64 images (up to 3.75 MB each) and documents (4.5 MB each).
    body_limit_bytes: 33_554_432,
    heartbeat_interval_ms: 15_000,
    trust_proxy: false,
    // Longer than the 60 s idle timeout of AWS load balancers, so the balancer closes first.
    keep_alive_timeout_ms: 72_000,
    // Node requires headersTimeout > keepAliveTimeout; both above common load-balancer idle timeouts.
    headers_timeout_ms: 75_000,
    // How long a caller may take to send a whole request (headers and body); a response may take
    // as long as it needs. Slow or stalled uploads would otherwise hold sockets forever.
    request_timeout_ms: 30_000,
    // After SIGTERM, /readyz answers 503 this long before the listener closes, so load balancers
    // see the instance leave before it stops taking connections.
    shutdown_delay_ms: 5_000,
    // How long in-flight requests and streams may run after the listener closed.
    drain_timeout_ms: 30_000,
    // Serve openapi.yaml/json and the interactive docs without auth.
    docs: true,
    // A caller that ends its side of the connection before its answer has gone (nginx's default:
    // 499, the upstream call aborted); true keeps answering callers that half-close after sending.
    half_close: false,
    // Usage records of requests no tenant was named for (HTTP-layer refusals, bad keys, unknown
    // routes) an attacker could make at line rate; past this many a second they are counted, not written.
    anonymous_records_per_second: 100,
    // Large request bodies held in memory at once, over all requests: one body at the default
    // limit, with what parsing and re-encoding it costs (about eight times its size at its peak),
    // fits a 512 MiB container.
    body_buffer_bytes: 33_554_432,
    // Prometheus's registered default port for Node exporters; on server.host unless set.
    metrics_port: 9464,
  },
  client: {
    // Sent as inferenceConfig.maxTokens when inference_config is omitted (Burr's rule).
    max_tokens: 4096,
    allowed_roles: ['system', 'user', 'assistant'] satisfies readonly Role[],
    allowed_role_metadata: [] satisfies readonly string[],
    supports_streaming: true,
    // Bedrock reads s3Location sources with the gateway's AWS identity, not the caller's: off unless the operator opts in.
    allow_s3_locations: false,
    max_retries: 3,
    timeouts: {
      connect_ms: 5_000,
      first_token_ms: 60_000,
      idle_ms: 30_000,
      total_ms: 600_000,
    },
    // Targets in the order written; `weighted` spreads calls by weight.
    strategy: 'fallback',
    // With `weighted`: a conversation stays on one target, where its prompt cache lives.
    affinity: true,
    // LiteLLM's router cools a deployment down after 3 failures in a minute; Bedrock's quotas refill per minute.
    cooldown: { failures: 3, window_ms: 60_000, ms: 30_000 },
    // Sampling knobs only: tools and system prompts change what a client is, so operators opt in.
    overridable: ['temperature', 'top_p', 'max_tokens', 'stop_sequences'] satisfies readonly OverridableField[],
  },
  guardrail: {
    trace: 'disabled',
    stream_processing_mode: 'sync',
  },
  tenant: {
    log_prompts: false,
  },
  redis: {
    key_prefix: 'bedrock-gateway',
    // A limiter decision never holds a call up longer than this.
    timeout_ms: 50,
    // Fail open: an outage of the limiter's store must not become an outage of the gateway.
    on_unavailable: 'allow',
    // A replica killed holding concurrency slots frees them this long after its last renewal.
    lease_ms: 30_000,
  },
} as const
