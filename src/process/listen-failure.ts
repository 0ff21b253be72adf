// A listener that cannot bind ends the process before it reports ready, in one log line that names
// the address, the cause and the setting to change: operators run several gateways on one host
// (blue/green, a laptop, a bench), and Node's own report of EADDRINUSE is a stack trace.

/** Where one listener binds, and the settings that say so (for the line that tells what to change). */
export interface ListenTarget {
  /** `api` or `metrics`, as the log line calls it. */
  readonly listener: 'api' | 'metrics'
  readonly host: string
  readonly port: number
  readonly hostSetting: string
  readonly portSetting: string
  /** How to do without this listener, when one can. */
  readonly without?: string
}

/** A listener that did not bind, with the error Node gave. */
export class ListenFailure extends Error {
  readonly code: string
  readonly address: string

  constructor(
    readonly target: ListenTarget,
    override readonly cause: unknown,
  ) {
    const address = addressOf(target.host, target.port)
    super(explain(target, address, cause))
    this.name = 'ListenFailure'
    this.address = address
    this.code = codeOf(cause) ?? 'ERR_LISTEN'
  }
}

/** Runs `bind`; any failure becomes a ListenFailure for `target`. */
export async function bindOrExplain<T>(target: ListenTarget, bind: () => Promise<T>): Promise<T> {
  try {
    return await bind()
  } catch (error) {
    throw new ListenFailure(target, error)
  }
}

function explain(target: ListenTarget, address: string, cause: unknown): string {
  const code = codeOf(cause)
  const what = target.listener === 'api' ? 'the API' : 'metrics'
  const head = `cannot listen for ${what} on ${address}`
  const freePort = `set ${target.portSetting} to a free port, or 0 for any`
  const hostFix = `set ${target.hostSetting} to an address of this host (127.0.0.1: this host only; 0.0.0.0: every interface)`
  const without = target.without === undefined ? '' : `, or ${target.without}`
  switch (code) {
    case 'EADDRINUSE':
      return `${head}: the address is already in use (EADDRINUSE), by another process or another gateway; ${freePort}${without}`
    case 'EACCES':
      return `${head}: permission denied (EACCES): ports below 1024 need root or CAP_NET_BIND_SERVICE; ${freePort}${without}`
    case 'EADDRNOTAVAIL':
      return `${head}: no interface of this host has the address ${target.host} (EADDRNOTAVAIL); ${hostFix}${without}`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return `${head}: the host name ${JSON.stringify(target.host)} does not resolve (${code}); ${hostFix}${without}`
    default: {
      const message = cause instanceof Error ? cause.message : String(cause)
      return `${head}: ${message}${code === undefined || message.includes(code) ? '' : ` (${code})`}; check ${target.hostSetting} and ${target.portSetting}${without}`
    }
  }
}

function addressOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
