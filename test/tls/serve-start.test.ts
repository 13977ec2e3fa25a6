import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, test } from 'node:test'
import { CLI_TIMEOUT_MS, MAIN } from '../helpers/main-command.js'
import { startServeProcess } from '../helpers/serve-process.js'
import { GATEWAY_ID, generateCerts, logLine, writeConfig, type TestCerts } from './tls-fixtures.js'

// Real `serve` processes; the warning is read from their log lines. Listeners beyond loopback
// bind 0.0.0.0 on a port the OS picks.
const WARNING = /routes inject secrets while a Check listener beyond loopback/
let certs: TestCerts
before(() => {
  certs = generateCerts()
})
after(() => certs.remove())

/** Starts serve with `args`, returns its log up to the `serving` line, and stops it. */
async function logUntilServing(args: string[]): Promise<string> {
  const serve = await startServeProcess(args)
  try {
    await logLine(serve, /"msg":"serving"/)
    return serve.stderr()
  } finally {
    await serve.stop()
  }
}

function warningOf(log: string): { routes: string[]; listeners: string[] } | undefined {
  const line = log.split('\n').find((l) => WARNING.test(l))
  return line === undefined ? undefined : JSON.parse(line)
}

test('secrets injected while Check listens on 0.0.0.0 without mTLS: a warning names the routes and the listeners', async () => {
  const config = writeConfig(certs.dir, {})
  const args = ['--config', config, '--grpc', '0.0.0.0:0', '--http-authz', '0.0.0.0:0']
  const warning = warningOf(await logUntilServing(args))
  assert.ok(warning, 'a warning at start')
  // examples/llm-gateway.yaml: every route but llm-d injects a provider key.
  assert.deepEqual(warning.routes, ['openai', 'mistralai', 'huggingface'])
  assert.deepEqual(warning.listeners, ['grpc 0.0.0.0:0', 'httpAuthz 0.0.0.0:0'])
})

test('server-only TLS (no clientCa) still warns: any caller may connect; a loopback listener is not named', async () => {
  const config = writeConfig(certs.dir, { tls: { cert: 'server.crt', key: 'server.key' } })
  const warning = warningOf(await logUntilServing(['--config', config, '--grpc', '0.0.0.0:0']))
  assert.deepEqual(warning?.listeners, ['grpc 0.0.0.0:0'])
})

test('with mutual TLS on 0.0.0.0 there is no warning', async () => {
  const config = writeConfig(certs.dir, {
    tls: { cert: 'server.crt', key: 'server.key', clientCa: 'ca.crt', allowedSans: [GATEWAY_ID] },
  })
  const log = await logUntilServing(['--config', config, '--grpc', '0.0.0.0:0'])
  assert.equal(warningOf(log), undefined)
})

test('loopback listeners only: no warning', async () => {
  const log = await logUntilServing(['--config', writeConfig(certs.dir, {})])
  assert.match(log, /"msg":"serving"/)
  assert.equal(warningOf(log), undefined)
})

test('serve refuses to start when the key is not the certificate’s, naming listen.tls.key', () => {
  const config = writeConfig(certs.dir, {
    tls: { cert: 'server.crt', key: 'client.key', clientCa: 'ca.crt' },
  })
  const args = ['serve', '--config', config, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0']
  const run = spawnSync(process.execPath, [...MAIN, ...args], {
    encoding: 'utf8',
    timeout: CLI_TIMEOUT_MS,
  })
  assert.equal(run.status, 1)
  assert.match(run.stderr, /listen\.tls\.key: is not the key of listen\.tls\.cert/)
})
