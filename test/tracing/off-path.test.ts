import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { createCheckClient } from '../helpers/check-client.js'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { startOtlpReceiver } from '../helpers/otlp-receiver.js'
import { startServeProcess } from '../helpers/serve-process.js'
import { writeTracingConfig } from './tracing-config.js'
import { tempDir } from '../helpers/temp-dir.js'

/**
 * Proof that tracing off costs the Check path no OpenTelemetry code: a module resolve hook in
 * the real `serve` process records every `@opentelemetry/*` import it sees while the server
 * starts and answers Checks (gRPC and HTTP). Off: none. On: the SDK (the control).
 */
function recordingHook(): { env: Record<string, string>; seen: () => string[] } {
  const dir = tempDir('otel-imports')
  const record = join(dir, 'seen.txt')
  writeFileSync(record, '')
  const hooks = join(dir, 'hooks.mjs')
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@opentelemetry/')) appendFileSync(${JSON.stringify(record)}, specifier + '\\n')
  return next(specifier, context)
}
`,
  )
  const register = join(dir, 'register.mjs')
  writeFileSync(
    register,
    `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\n`,
  )
  return {
    env: {
      NODE_OPTIONS: `--import ${register}`,
      // Whatever the machine has set: this test decides by the config alone.
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
      OTEL_TRACES_EXPORTER: '',
      OTEL_SDK_DISABLED: '',
    },
    seen: () => readFileSync(record, 'utf8').split('\n').filter(Boolean),
  }
}

async function serveAndCheck(tracing: string): Promise<string[]> {
  const hook = recordingHook()
  const server = await startServeProcess(['--config', writeTracingConfig(tracing)], hook.env)
  const client = createCheckClient(server.grpc)
  try {
    const allowed = await client.check(
      checkRequest({ path: '/openai', headers: { authorization: `Bearer ${ALICE_TOKEN}` } }),
    )
    assert.equal(allowed.status?.code ?? 0, 0)
    const denied = await fetch(`${server.httpAuthz}/envoy/openai`, { headers: { host: 'gw' } })
    assert.equal(denied.status, 401)
  } finally {
    client.close()
    assert.equal(await server.stop(), 0)
  }
  return hook.seen()
}

test('tracing off: serving and answering Checks imports no OpenTelemetry module', async () => {
  assert.deepEqual(await serveAndCheck(''), [])
})

test('tracing on: the same run imports the SDK (the hook sees what it should)', async (t) => {
  const receiver = await startOtlpReceiver()
  t.after(() => receiver.close())
  const seen = await serveAndCheck(`tracing: { enabled: true, endpoint: ${receiver.url} }`)
  assert.ok(seen.includes('@opentelemetry/sdk-trace-node'), seen.join(', '))
  assert.ok(seen.includes('@opentelemetry/api'), seen.join(', '))
})
