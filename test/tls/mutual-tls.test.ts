import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { join } from 'node:path'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js'
import { createCheckClient } from '../helpers/check-client.js'
import { checkRequest } from '../helpers/check-request.js'
import {
  GATEWAY_ID,
  checkOverTls,
  checksAnswered,
  forwardAuthOverTls,
  generateCerts,
  logLine,
  writeConfig,
  type ClientIdentity,
  type TestCerts,
} from './tls-fixtures.js'

// One real `serve` with mutual TLS on both Check listeners; clients are real grpc-js and
// node:https clients, each on a connection of its own.
let certs: TestCerts
let serve: ServeProcess
let httpsPort: number

before(async () => {
  certs = generateCerts()
  const config = writeConfig(certs.dir, {
    tls: {
      cert: 'server.crt',
      key: 'server.key',
      clientCa: join(certs.dir, 'ca.crt'),
      allowedSans: [GATEWAY_ID, 'Gateway.Example.com'],
    },
  })
  serve = await startServeProcess(['--config', config])
  httpsPort = Number(new URL(serve.httpAuthz).port)
})
after(async () => {
  await serve.stop()
  certs.remove()
})

const GATEWAY: ClientIdentity = { trust: 'ca.crt', cert: 'client' }

/**
 * Runs `attempt`, which must fail, and shows that no Check was evaluated meanwhile: the
 * Check counter is bumped before an answer leaves the server, unlike the decision log line
 * (written asynchronously), so it is the one to compare.
 */
async function assertRefusedWithoutCheck(attempt: () => Promise<unknown>): Promise<unknown> {
  const checks = await checksAnswered(serve)
  const err = await attempt().then(
    () => assert.fail('the connection was accepted'),
    (e: unknown) => e,
  )
  assert.equal(await checksAnswered(serve), checks, 'no Check may run')
  return err
}

function grpcCheck(who: ClientIdentity, path = '/openai', token = ALICE_TOKEN) {
  return checkOverTls(certs, serve.grpc, who, path, token)
}

function httpsCheck(who: ClientIdentity, token = ALICE_TOKEN) {
  return forwardAuthOverTls(certs, httpsPort, who, '/openai/v1/chat/completions', token)
}

test('gRPC with the gateway certificate: Alice gets the OpenAI key, Bob gets 403', async () => {
  const alice = await grpcCheck(GATEWAY)
  assert.equal(alice.status?.code, 0)
  const set = new Map(alice.ok_response?.headers?.map((h) => [h.header?.key, h.header?.value]))
  assert.equal(set.get('authorization'), 'Bearer demo-openai-key')
  const bob = await grpcCheck(GATEWAY, '/openai', BOB_TOKEN)
  assert.equal(bob.denied_response?.status?.code, 403)
  assert.equal(bob.ok_response, undefined)
})

test('gRPC without a client certificate: the handshake fails, no Check runs', async () => {
  const err = await assertRefusedWithoutCheck(() => grpcCheck({ trust: 'ca.crt' }))
  assert.equal((err as { code?: number }).code, 14, 'UNAVAILABLE: no connection')
})

test('gRPC with a client certificate of another CA: refused, no Check runs', async () => {
  await assertRefusedWithoutCheck(() => grpcCheck({ trust: 'ca.crt', cert: 'other-client' }))
})

test('gRPC with a certificate of our CA whose SAN is not allowed: disconnected, no Check runs', async () => {
  await assertRefusedWithoutCheck(() => grpcCheck({ trust: 'ca.crt', cert: 'client-stranger' }))
  // Log lines are written asynchronously: wait for this refusal's own line.
  await logLine(serve, /"listener":"grpc".*sa\/attacker.*client certificate refused/)
})

test('a URI SAN whose text smuggles ", URI:<gateway ID>" is not the gateway', async () => {
  await assertRefusedWithoutCheck(() => grpcCheck({ trust: 'ca.crt', cert: 'client-smuggle' }))
})

test('a DNS SAN named in allowedSans is let in (compared case-insensitively)', async () => {
  const res = await grpcCheck({ trust: 'ca.crt', cert: 'client-dns' })
  assert.equal(res.status?.code, 0)
})

test('a plaintext gRPC client on the TLS port gets no Check', async () => {
  const client = createCheckClient(serve.grpc, { ownConnection: true })
  try {
    await assertRefusedWithoutCheck(() =>
      client.check(checkRequest({ path: '/openai', headers: { authorization: `Bearer x` } })),
    )
  } finally {
    client.close()
  }
})

test('HTTPS with the gateway certificate: Alice 200 with the OpenAI key, Bob 403', async () => {
  const alice = await httpsCheck(GATEWAY)
  assert.equal(alice.status, 200)
  assert.equal(alice.headers.authorization, 'Bearer demo-openai-key')
  const bob = await httpsCheck(GATEWAY, BOB_TOKEN)
  assert.equal(bob.status, 403)
  assert.equal(bob.headers.authorization, undefined)
})

test('HTTPS without a client certificate: the handshake fails, no Check runs', async () => {
  await assertRefusedWithoutCheck(() => httpsCheck({ trust: 'ca.crt' }))
})

test('HTTPS with a client certificate of another CA: refused, no Check runs', async () => {
  await assertRefusedWithoutCheck(() => httpsCheck({ trust: 'ca.crt', cert: 'other-client' }))
})

test('HTTPS with a certificate whose SAN is not allowed: disconnected, no Check runs', async () => {
  await assertRefusedWithoutCheck(() => httpsCheck({ trust: 'ca.crt', cert: 'client-stranger' }))
  await logLine(serve, /"listener":"httpAuthz".*sa\/attacker.*client certificate refused/)
})

test('plain HTTP on the HTTPS port gets no Check', async () => {
  await assertRefusedWithoutCheck(() =>
    fetch(`http://127.0.0.1:${httpsPort}/forward-auth`, {
      headers: { 'x-forwarded-uri': '/openai', authorization: `Bearer ${ALICE_TOKEN}` },
    }),
  )
})
