import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createCheckClient } from '../helpers/check-client.js'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { startOtlpReceiver } from '../helpers/otlp-receiver.js'
import { startServeProcess } from '../helpers/serve-process.js'
import { FAST_EXPORT, newTraceparent, writeTracingConfig } from './tracing-config.js'

const CHECK = 'envoy.service.auth.v3.Authorization/Check'
const ALICE = checkRequest({ path: '/openai', headers: { authorization: `Bearer ${ALICE_TOKEN}` } })

test('with no tracing block, OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME alone export Check spans', async (t) => {
  const receiver = await startOtlpReceiver()
  t.after(() => receiver.close())
  const base = receiver.url.replace(/\/v1\/traces$/, '')
  const server = await startServeProcess(['--config', writeTracingConfig('')], {
    ...FAST_EXPORT,
    OTEL_EXPORTER_OTLP_ENDPOINT: base,
    OTEL_SERVICE_NAME: 'authz-from-env',
  })
  t.after(() => server.stop())
  const client = createCheckClient(server.grpc)
  t.after(() => client.close())
  const parent = newTraceparent()
  await client.check(ALICE, { metadata: { traceparent: parent.header } })
  const span = await receiver.waitFor((s) => s.traceId === parent.traceId && s.name === CHECK)
  assert.equal(span.service, 'authz-from-env')
  assert.equal(span.contentType, 'application/x-protobuf')
  assert.equal(span.parentSpanId, parent.spanId)
})

test('protocol http/json, the subject opted in, and a root span when nothing propagates', async (t) => {
  const receiver = await startOtlpReceiver()
  t.after(() => receiver.close())
  const config = writeTracingConfig(
    `tracing:
  enabled: true
  endpoint: ${receiver.url}
  protocol: http/json
  attributes: { sub: true }`,
  )
  const server = await startServeProcess(['--config', config], FAST_EXPORT)
  t.after(() => server.stop())
  const client = createCheckClient(server.grpc)
  t.after(() => client.close())
  await client.check(ALICE)
  const span = await receiver.waitFor((s) => s.name === CHECK)
  assert.equal(span.contentType, 'application/json')
  assert.equal(span.parentSpanId, '', 'a new trace starts here')
  assert.match(span.traceId, /^[0-9a-f]{32}$/)
  assert.equal(span.attributes['user.id'], 'alice')
  assert.equal(span.service, 'jwt-ext-authz')
})
