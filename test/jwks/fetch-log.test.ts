import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { oidcLocator } from '../../src/jwks/oidc.js'
import { fetchTiming } from '../../src/jwks/remote-options.js'
import { RemoteKeySource } from '../../src/jwks/remote.js'
import { JwksServer } from '../helpers/jwks-server.js'

interface LogLine {
  readonly msg: string
  readonly detail: Readonly<Record<string, unknown>>
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** `refresh()` waits up to checkWait for the fetch it starts: long enough to see it settle. */
function source(locate: () => Promise<string>, now?: () => number) {
  const lines: LogLine[] = []
  const keys = new RemoteKeySource({
    provider: 'idp',
    locate,
    insecure: true,
    timing: fetchTiming({ checkWait: '30s', cooldown: '0s', maxStale: '1h' }),
    warn: (msg, detail) => lines.push({ msg, detail }),
    ...(now ? { now } : {}),
  })
  return { keys, lines }
}

test('an unreachable JWKS that never answered logs "no keys yet" and its URL without credentials', async (t) => {
  const port = await closedPort()
  const url = `http://svc:hunter2@127.0.0.1:${port}/realms/llm/jwks.json?api_key=sk-secret#k`
  const { keys, lines } = source(async () => url)
  t.after(() => keys.close())
  await keys.firstAttempt
  assert.equal(lines.length, 1)
  assert.equal(lines[0]!.msg, 'jwks fetch failed; no keys yet')
  assert.equal(lines[0]!.detail.url, `http://127.0.0.1:${port}/realms/llm/jwks.json`)
  assert.equal(lines[0]!.detail.provider, 'idp')
  const logged = JSON.stringify(lines)
  for (const secret of ['hunter2', 'svc:', 'sk-secret', 'api_key'])
    assert.ok(!logged.includes(secret), `${secret} is not logged`)
})

test('OIDC with an unreachable IdP logs "no keys yet" and the discovery URL', async (t) => {
  const port = await closedPort()
  const issuerUrl = `http://127.0.0.1:${port}/realms/llm`
  const { keys, lines } = source(
    oidcLocator(issuerUrl, issuerUrl, { timeoutMs: 5000, insecure: true }),
  )
  t.after(() => keys.close())
  await keys.firstAttempt
  assert.equal(lines[0]!.msg, 'jwks fetch failed; no keys yet')
  assert.equal(lines[0]!.detail.url, `${issuerUrl}/.well-known/openid-configuration`)
  assert.match(String(lines[0]!.detail.error), /unreachable/)
})

test('an IdP failing after a good fetch logs "keeping the last good keys", then past maxStale says so', async (t) => {
  const idp = await new JwksServer().start()
  t.after(() => idp.close())
  const { publicKey } = await generateKeyPair('ES256')
  idp.keys = [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }]
  let clock = 1_000_000
  const { keys, lines } = source(
    async () => idp.jwksUrl,
    () => clock,
  )
  t.after(() => keys.close())
  await keys.firstAttempt
  assert.equal(lines.length, 0, 'the first fetch succeeded')

  idp.behaviour = 'error500'
  await keys.refresh()
  assert.equal(lines.length, 1)
  assert.equal(lines[0]!.msg, 'jwks fetch failed; keeping the last good keys')
  assert.equal(lines[0]!.detail.url, idp.jwksUrl)
  assert.equal(lines[0]!.detail.error, 'HTTP 500')

  clock += 2 * 60 * 60 * 1000 // past maxStale (1h)
  await keys.refresh()
  assert.equal(
    lines[1]!.msg,
    'jwks fetch failed; the last keys are past maxStale and no longer used',
  )
})
