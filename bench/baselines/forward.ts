// The floor of any proxy: a bare node:http server that forwards each request to the emulator
// unchanged (method, path, headers, body; the caller signed it for the emulator's host) over a
// keep-alive agent and streams the answer back. No parsing, auth, policy, signing or logging: what
// it adds over calling the emulator directly is what the extra process hop itself costs.
// The Host header is set to the emulator's, the host the caller signed for (wrk sends its own).
// Env: PORT, BEDROCK_ENDPOINT.
import { Agent, createServer, request } from 'node:http'

const upstream = new URL(process.env.BEDROCK_ENDPOINT ?? 'http://127.0.0.1:4010')
const agent = new Agent({ keepAlive: true, noDelay: true, maxSockets: Infinity })

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.end('{"ok":true}')
    return
  }
  const out = request({ agent, hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(res)
  })
  out.on('error', () => res.destroy())
  req.pipe(out)
})
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT ?? 8081), '127.0.0.1')
