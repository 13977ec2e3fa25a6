import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { createCheckClient, type CheckClient } from '../helpers/check-client.js'
import { checkRequest } from '../helpers/check-request.js'
import { JwksServer } from '../helpers/jwks-server.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import {
  startOtlpReceiver,
  SPAN_KIND,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../helpers/otlp-receiver.js'
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js'
import { FAST_EXPORT, newTraceparent, OPENAI_KEY, writeTracingConfig } from './tracing-config.js'
import { eventually } from '../helpers/eventually.js'

const CHECK = 'envoy.service.auth.v3.Authorization/Check'

let receiver: OtlpReceiver
let jwks: JwksServer
let server: ServeProcess
let client: CheckClient
let rotatingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

before(async () => {
  receiver = await startOtlpReceiver()
  jwks = await new JwksServer().start()
  const first = await generateKeyPair('ES256', { extractable: true })
  jwks.keys = [{ ...(await exportJWK(first.publicKey)), kid: 'first', alg: 'ES256' }]
  const config = writeTracingConfig(
    `tracing: { enabled: true, endpoint: ${receiver.url}, serviceName: authz-under-test }`,
    jwks.jwksUrl,
  )
  server = await startServeProcess(['--config', config], FAST_EXPORT)
  client = createCheckClient(server.grpc)
  // The rotating provider's first fetch is done once the server reports ready.
  await eventually(
    'the server to be ready',
    async () => (await fetch(`${server.http}/readyz`)).status === 200,
  )
  const second = await generateKeyPair('ES256', { extractable: true })
  rotatingKey = second.privateKey
  // Served from now on, but the server holds only `first`: a token of `second` makes it refetch.
  jwks.keys.push({ ...(await exportJWK(second.publicKey)), kid: 'second', alg: 'ES256' })
})

after(async () => {
  client?.close()
  await server?.stop()
  await jwks?.close()
  await receiver?.close()
})

const byTrace = (traceId: string, name: string) => (s: ReceivedSpan) =>
  s.traceId === traceId && s.name === name

test('a gRPC Check is a SERVER span whose parent is the traceparent of the call metadata', async () => {
  const envoy = newTraceparent()
  const client_ = newTraceparent()
  const res = await client.check(
    checkRequest({
      method: 'POST',
      path: '/openai/v1/chat/completions',
      headers: { authorization: `Bearer ${ALICE_TOKEN}`, traceparent: client_.header },
    }),
    { metadata: { traceparent: envoy.header } },
  )
  assert.equal(res.status?.code ?? 0, 0)
  const span = await receiver.waitFor(byTrace(envoy.traceId, CHECK))
  assert.equal(span.kind, SPAN_KIND.SERVER)
  assert.equal(span.parentSpanId, envoy.spanId)
  assert.equal(span.service, 'authz-under-test')
  assert.equal(span.contentType, 'application/x-protobuf')
  assert.deepEqual(
    {
      system: span.attributes['rpc.system.name'],
      method: span.attributes['rpc.method'],
      route: span.attributes['ext_authz.route'],
      decision: span.attributes['ext_authz.decision'],
      provider: span.attributes['ext_authz.provider'],
      cacheHit: span.attributes['ext_authz.token_cache.hit'],
      adapter: span.attributes['ext_authz.adapter'],
      keyId: span.attributes['ext_authz.key_id'],
      config: span.attributes['ext_authz.config_revision'],
    },
    {
      system: 'grpc',
      method: CHECK,
      route: 'openai',
      decision: 'allow',
      provider: 'solo',
      cacheHit: false,
      adapter: 'grpc',
      keyId: 'openai',
      config: (await fetch(`${server.http}/readyz`)).headers.get('x-config-revision'),
    },
  )
  assert.equal(span.attributes['ext_authz.deny_reason'], undefined)
  assert.equal(span.attributes['user.id'], undefined, 'the subject only when configured')
  assert.ok(!receiver.spans.some((s) => s.traceId === client_.traceId), 'metadata wins')
})

test('without metadata the CheckRequest headers carry the parent; a deny has its reason; a repeat is a cache hit', async () => {
  const parent = newTraceparent()
  const request = () =>
    checkRequest({
      method: 'POST',
      path: '/openai/v1/chat/completions',
      headers: { authorization: `Bearer ${BOB_TOKEN}`, traceparent: parent.header },
    })
  await client.check(request())
  const first = await receiver.waitFor(byTrace(parent.traceId, CHECK))
  assert.equal(first.parentSpanId, parent.spanId)
  assert.equal(first.attributes['ext_authz.decision'], 'deny')
  assert.equal(first.attributes['ext_authz.deny_reason'], 'rbac_denied')
  assert.equal(first.attributes['ext_authz.denied_status'], 403)
  assert.equal(first.attributes['ext_authz.provider'], 'solo')
  assert.equal(first.attributes['ext_authz.token_cache.hit'], false)
  await client.check(request())
  const again = await receiver.waitFor(
    (s) => byTrace(parent.traceId, CHECK)(s) && s.spanId !== first.spanId,
  )
  assert.equal(again.attributes['ext_authz.token_cache.hit'], true)
})

test('a token-less deny and a sampled-out parent: the reason is recorded, the unsampled trace is not', async () => {
  const unsampled = newTraceparent(false)
  await client.check(checkRequest({ path: '/openai' }), {
    metadata: { traceparent: unsampled.header },
  })
  const sampled = newTraceparent()
  await client.check(checkRequest({ path: '/openai' }), {
    metadata: { traceparent: sampled.header },
  })
  const span = await receiver.waitFor(byTrace(sampled.traceId, CHECK))
  assert.equal(span.attributes['ext_authz.deny_reason'], 'token_missing')
  assert.equal(span.attributes['ext_authz.denied_status'], 401)
  // Spans leave in the order they ended; the earlier, unsampled one would be here by now.
  assert.ok(!receiver.spans.some((s) => s.traceId === unsampled.traceId))
})

test('forward-auth and Envoy http_service requests continue the traceparent of their headers', async () => {
  const forward = newTraceparent()
  const answer = await fetch(`${server.httpAuthz}/forward-auth`, {
    headers: {
      authorization: `Bearer ${ALICE_TOKEN}`,
      traceparent: forward.header,
      'x-forwarded-method': 'POST',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'gw.example.com',
      'x-forwarded-uri': '/openai/v1/chat/completions',
    },
  })
  assert.equal(answer.status, 200)
  const forwardSpan = await receiver.waitFor(byTrace(forward.traceId, 'ext_authz check'))
  assert.equal(forwardSpan.kind, SPAN_KIND.SERVER)
  assert.equal(forwardSpan.parentSpanId, forward.spanId)
  assert.equal(forwardSpan.attributes['ext_authz.adapter'], 'forward_auth')
  assert.equal(forwardSpan.attributes['ext_authz.decision'], 'allow')

  const envoy = newTraceparent()
  const denied = await fetch(`${server.httpAuthz}/envoy/openai/v1/models`, {
    headers: { traceparent: envoy.header, host: 'gw.example.com' },
  })
  assert.equal(denied.status, 401)
  const envoySpan = await receiver.waitFor(byTrace(envoy.traceId, 'ext_authz check'))
  assert.equal(envoySpan.parentSpanId, envoy.spanId)
  assert.equal(envoySpan.attributes['ext_authz.adapter'], 'envoy_http')
  assert.equal(envoySpan.attributes['ext_authz.deny_reason'], 'token_missing')
})

test('a Check that waits on a JWKS refetch (unknown kid) has the wait as a child span', async () => {
  const token = await new SignJWT({ sub: 'rotated-user' })
    .setProtectedHeader({ alg: 'ES256', kid: 'second' })
    .setIssuer('rotating.example')
    .sign(rotatingKey)
  const parent = newTraceparent()
  const hitsBefore = jwks.jwksHits
  const res = await client.check(
    checkRequest({ path: '/remote/x', headers: { authorization: `Bearer ${token}` } }),
    { metadata: { traceparent: parent.header } },
  )
  assert.equal(res.status?.code ?? 0, 0, 'allowed with the refetched key')
  assert.equal(jwks.jwksHits, hitsBefore + 1)
  const check = await receiver.waitFor(byTrace(parent.traceId, CHECK))
  const wait = await receiver.waitFor(byTrace(parent.traceId, 'jwks fetch'))
  assert.equal(wait.parentSpanId, check.spanId)
  assert.equal(wait.kind, SPAN_KIND.INTERNAL)
  assert.equal(wait.attributes['ext_authz.provider'], 'rotating')
  assert.equal(wait.attributes['ext_authz.jwks.outcome'], 'success')
  assert.equal(wait.attributes['ext_authz.jwks.joined'], false)
  assert.equal(check.attributes['ext_authz.provider'], 'rotating')
  assert.equal(check.attributes['ext_authz.route'], 'remote')
})

test('no span carries a token, a secret, a header value or the subject', async () => {
  const secrets = [
    ALICE_TOKEN,
    ...ALICE_TOKEN.split('.'),
    ...BOB_TOKEN.split('.'),
    OPENAI_KEY,
    'Bearer',
    'curl/8.5.0',
    'gw.example.com',
    'gateway.example.com',
    '/openai/v1',
    'alice',
    'bob',
    'rotated-user',
  ]
  assert.ok(receiver.spans.length >= 6)
  const orphans = receiver.spans.filter((s) => s.name === 'jwks fetch' && s.parentSpanId === '')
  assert.deepEqual(orphans, [], 'a key fetch is traced only as a Check’s child')
  for (const span of receiver.spans) {
    for (const [key, value] of Object.entries(span.attributes)) {
      const text = String(value)
      for (const secret of secrets)
        assert.ok(!text.includes(secret), `${span.name} ${key}=${text} contains ${secret}`)
      assert.ok(!/^00-[0-9a-f]{32}-/.test(text), `${key} holds a traceparent`)
      assert.ok(!/^req-\d+$/.test(text), `${key} holds a request id`)
    }
  }
})
