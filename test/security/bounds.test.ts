import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

let server: TestServer
before(async () => {
  server = await startTestServer({ file: 'examples/llm-gateway.yaml' })
})
after(() => server.close())

test('headers beyond limits.maxHeaderBytes are denied 413, not processed', async () => {
  const res = await server.client.check(
    checkRequest({
      method: 'POST',
      path: '/openai',
      headers: { authorization: `Bearer ${ALICE_TOKEN}`, 'x-big': 'a'.repeat(70_000) },
    }),
  )
  assert.equal(res.status?.message, 'request_too_large')
  assert.equal(res.denied_response?.status?.code, 413)
})

test('a 10 MB body is denied 413 with a CheckResponse, not refused as an RPC error', async () => {
  for (const req of [
    checkRequest({
      method: 'POST',
      path: '/openai',
      headers: { authorization: `Bearer ${ALICE_TOKEN}` },
      body: 'x'.repeat(10 * 1024 * 1024),
    }),
    checkRequest({
      method: 'POST',
      path: '/openai',
      headers: { authorization: `Bearer ${ALICE_TOKEN}` },
      rawBody: Buffer.alloc(10 * 1024 * 1024),
    }),
  ]) {
    const res = await server.client.check(req, { deadlineMs: 20_000 })
    assert.equal(res.status?.message, 'request_too_large')
  }
  const small = await server.client.check(
    checkRequest({
      method: 'POST',
      path: '/openai',
      headers: { authorization: `Bearer ${ALICE_TOKEN}` },
      body: '{"model":"gpt-4o-mini"}',
    }),
  )
  assert.equal(small.status?.code, 0, 'bodies within the limit pass')
})
