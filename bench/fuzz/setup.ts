// The gateway config every fuzz run serves (in-process in the test, as a process in `npm run
// fuzz`): tenants `acme` and `globex` and the clients the generator's templates name, pointed at
// the emulator. Secrets and the emulator's address come from the environment, under the names
// test/helpers/gateway.ts sets: EMULATOR_URL, EMU_AKID, EMU_SECRET, ACME_KEY, GLOBEX_KEY.
import { BODY_LIMIT_BYTES, KEYS } from './cases.js'

const client = (model: string, more: string): string => `        model: ${model}
        region: us-east-1
        endpoint: env.EMULATOR_URL
        access_key_id: env.EMU_AKID
        secret_access_key: env.EMU_SECRET
${more.replace(/^/gm, '        ')}`

/**
 * `server` settings: a small body limit so that 413 costs a few hundred KB instead of 32 MiB;
 * `port` only for the process run (the test's gateway listens on a free port); `half_close` as by
 * default (a caller that half-closes after a valid call has gone: the oracle lets it go
 * unanswered, and its record must say so); every anonymous record written, since the oracle
 * matches each answer to its record (the bound is test/usage/refusal-records.test.ts's).
 */
export function fuzzConfigYaml(port?: number): string {
  return `server:
  host: 127.0.0.1
${port === undefined ? '' : `  port: ${port}\n`}  body_limit_bytes: ${BODY_LIMIT_BYTES}
  heartbeat_interval_ms: 1000
  anonymous_records_per_second: 1000000
  shutdown_delay_ms: 0
  drain_timeout_ms: 2000
tenants:
  acme:
    api_keys: [env.ACME_KEY]
    default_client: main
    clients:
      main:
${client('us.anthropic.claude-3-5-sonnet-20240620-v1:0', 'overridable: [temperature, top_p, max_tokens, stop_sequences, system, tools, tool_choice]\nallowed_role_metadata: [cache_control]\nmax_retries: 0')}
      plain:
${client('amazon.nova-micro-v1:0', 'supports_streaming: false\noverridable: [temperature, top_p, max_tokens, stop_sequences, system, tools, tool_choice]\nmax_retries: 0')}
      strict:
${client('us.anthropic.claude-3-5-sonnet-20240620-v1:0', 'max_retries: 0')}
      tiny:
${client('us.anthropic.claude-3-5-sonnet-20240620-v1:0', 'inference_config:\n  max_tokens: 3\nfinish_reason_deny_list: [max_tokens]\nmax_retries: 0')}
  globex:
    api_keys: [env.GLOBEX_KEY]
    clients:
      secret-client:
${client('amazon.nova-micro-v1:0', 'max_retries: 0')}
`
}

/** The environment the config reads (besides EMULATOR_URL, EMU_AKID and EMU_SECRET). */
export const KEY_ENV = { ACME_KEY: KEYS.acme, GLOBEX_KEY: KEYS.globex } as const
