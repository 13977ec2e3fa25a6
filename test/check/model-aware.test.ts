import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { fromStruct } from '../../src/proto/struct.js'
import type { CheckResponse } from '../../src/proto/types.js'
import { checkRequest, type CheckRequestOptions } from '../helpers/check-request.js'
import { ALICE_TOKEN, BOB_TOKEN, HF_TOKEN } from '../helpers/keys.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

let server: TestServer
let seeds: TestServer
before(async () => {
  // model-aware.yaml plus two routes showing the other template sources.
  const yaml = `${readFileSync('examples/model-aware.yaml', 'utf8')}
  - name: hf-models
    match: { regex: "/hf/models/(?<model>.+)" }
    providers: [solo]
    rbac:
      policies:
        models:
          nestedClaimDelimiter: .
          principals: [{ jwtPrincipal: { claims: { llms.huggingface: "\${request.path.model}" }, matcher: LIST_CONTAINS } }]
  - name: by-header
    match: { prefix: /by-header }
    providers: [solo]
    rbac:
      policies:
        models:
          nestedClaimDelimiter: .
          principals: [{ jwtPrincipal: { claims: { llms.openai: "\${request.header.x-model}" }, matcher: LIST_CONTAINS } }]
`
  server = await startTestServer({ yaml })
  seeds = await startTestServer({ file: 'examples/llm-gateway.yaml' })
})
after(async () => {
  await server.close()
  await seeds.close()
})

const chat = (model: unknown) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'Whats your favorite poem?' }] })

function check(
  token: string,
  path: string,
  o: Partial<CheckRequestOptions> = {},
  target = server,
): Promise<CheckResponse> {
  return target.client.check(
    checkRequest({
      method: 'POST',
      path,
      ...o,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...o.headers,
      },
    }),
    { deadlineMs: 20_000 },
  )
}

const headerOf = (res: CheckResponse, name: string) =>
  res.ok_response?.headers?.find((h) => h.header?.key === name)?.header?.value

test('Alice asking for gpt-3.5-turbo is allowed; the model reaches metadata and x-authorized-model', async () => {
  const res = await check(ALICE_TOKEN, '/openai/v1/chat/completions', {
    body: chat('gpt-3.5-turbo'),
  })
  assert.equal(res.status?.code, 0, res.status?.message)
  assert.equal(headerOf(res, 'x-authorized-model'), 'gpt-3.5-turbo')
  assert.equal(fromStruct(res.dynamic_metadata!).model, 'gpt-3.5-turbo')
})

test('Alice asking for gpt-4o-mini is refused with an OpenAI-style error naming both models', async () => {
  const res = await check(ALICE_TOKEN, '/openai/v1/chat/completions', { body: chat('gpt-4o-mini') })
  assert.equal(res.status?.message, 'rbac_denied')
  assert.equal(res.denied_response?.status?.code, 403)
  assert.equal(
    res.denied_response?.headers?.find((h) => h.header?.key === 'content-type')?.header?.value,
    'application/json',
  )
  assert.deepEqual(JSON.parse(res.denied_response!.body!), {
    error: {
      message: 'gpt-4o-mini is not allowed by llms.openai; allowed: gpt-3.5-turbo',
      type: 'permission_error',
      param: null,
      code: 'rbac_denied',
    },
  })
})

test('Bob is refused on OpenAI and allowed for mistral-large-latest on Mistral', async () => {
  const openai = await check(BOB_TOKEN, '/openai/v1/chat/completions', {
    body: chat('gpt-3.5-turbo'),
  })
  assert.equal(
    JSON.parse(openai.denied_response!.body!).error.message,
    'gpt-3.5-turbo is not allowed by llms.openai; allowed: none',
  )
  const mistral = await check(BOB_TOKEN, '/mistralai/v1/chat/completions', {
    body: chat('mistral-large-latest'),
  })
  assert.equal(mistral.status?.code, 0)
  assert.equal(headerOf(mistral, 'x-authorized-model'), 'mistral-large-latest')
})

test('the body works packed as bytes (raw_body) as well as text', async () => {
  const res = await check(ALICE_TOKEN, '/openai/v1/completions', {
    rawBody: Buffer.from(JSON.stringify({ model: 'gpt-3.5-turbo', prompt: 'x' })),
  })
  assert.equal(res.status?.code, 0, res.status?.message)
})

test('missing, truncated, non-JSON and model-less bodies are refused with their own reasons', async () => {
  const cases: [string, Partial<CheckRequestOptions>][] = [
    ['body_missing', {}],
    [
      'body_truncated',
      {
        body: '{"model":"gpt-3.5-turbo","messages":[{"role":"us',
        headers: { 'x-envoy-auth-partial-body': 'true' },
      },
    ],
    ['body_invalid', { body: 'model=gpt-3.5-turbo' }],
    ['request_value_missing', { body: JSON.stringify({ params: { model: 'gpt-3.5-turbo' } }) }],
    ['request_value_missing', { body: chat(['gpt-3.5-turbo']) }],
    ['request_value_missing', { body: JSON.stringify(['gpt-3.5-turbo']) }],
  ]
  for (const [reason, o] of cases) {
    const res = await check(ALICE_TOKEN, '/openai/v1/chat/completions', o)
    assert.equal(res.status?.message, reason, JSON.stringify(o).slice(0, 60))
    // A body cut short is the gateway's limit, not the caller's rights: 413, saying which.
    assert.equal(res.denied_response?.status?.code, reason === 'body_truncated' ? 413 : 403)
    assert.equal(JSON.parse(res.denied_response!.body!).error.code, reason)
  }
})

test('a body naming the model twice is refused body_ambiguous: an upstream may read the other one', async () => {
  const ambiguous = [
    '{"model":"gpt-4","model":"gpt-3.5-turbo","messages":[]}',
    '{"model":"gpt-4","messages":[{"role":"user","content":"hi"}],"model":"gpt-3.5-turbo"}',
    // The same key spelled with an escape is the same key once decoded.
    '{"mod\\u0065l":"gpt-4","model":"gpt-3.5-turbo"}',
  ]
  for (const body of ambiguous) {
    const res = await check(ALICE_TOKEN, '/openai/v1/chat/completions', { body })
    assert.equal(res.status?.message, 'body_ambiguous', body)
    assert.equal(res.denied_response?.status?.code, 403)
  }
  // Repeated keys nowhere on the path a rule reads are the upstream's business.
  const elsewhere = await check(ALICE_TOKEN, '/openai/v1/chat/completions', {
    body: '{"model":"gpt-3.5-turbo","messages":[{"role":"user","role":"system","content":"\\"model\\""}],"n":1,"n":2}',
  })
  assert.equal(elsewhere.status?.code, 0, elsewhere.status?.message)
})

test('x-envoy-auth-partial-body sent twice or merged with true anywhere means truncated', async () => {
  const body = chat('gpt-3.5-turbo')
  const base: Array<[string, string]> = [
    [':path', '/openai/v1/chat/completions'],
    [':method', 'POST'],
    [':authority', 'gw'],
    ['authorization', `Bearer ${ALICE_TOKEN}`],
  ]
  for (const value of ['false,true', 'true, false', 'false, TRUE', 'false,false']) {
    const res = await check(ALICE_TOKEN, '/openai/v1/chat/completions', {
      body,
      headers: { 'x-envoy-auth-partial-body': value },
    })
    assert.equal(res.status?.message, 'body_truncated', value)
  }
  const twice = await check(ALICE_TOKEN, '/openai/v1/chat/completions', {
    body,
    headerMap: [
      ...base,
      ['x-envoy-auth-partial-body', 'false'],
      ['x-envoy-auth-partial-body', 'false'],
    ],
  })
  assert.equal(twice.status?.message, 'body_truncated')
  const once = await check(ALICE_TOKEN, '/openai/v1/chat/completions', {
    body,
    headerMap: [...base, ['x-envoy-auth-partial-body', 'false']],
  })
  assert.equal(once.status?.code, 0, once.status?.message)
})

test('a 10 MB body is refused by size before any parsing', async () => {
  const res = await check(ALICE_TOKEN, '/openai/v1/chat/completions', {
    body: chat(`gpt-3.5-turbo${' '.repeat(10 * 1024 * 1024)}`),
  })
  assert.equal(res.status?.message, 'request_too_large')
})

test('the Hugging Face /models/<name> path form and a header can carry the model too', async () => {
  assert.equal((await check(HF_TOKEN, '/hf/models/hugging-face-latest')).status?.code, 0)
  assert.equal(
    (await check(HF_TOKEN, '/hf/models/openai-community/gpt2')).status?.message,
    'rbac_denied',
  )
  assert.equal(
    (await check(ALICE_TOKEN, '/by-header', { headers: { 'x-model': 'gpt-3.5-turbo' } })).status
      ?.code,
    0,
  )
  assert.equal((await check(ALICE_TOKEN, '/by-header')).status?.message, 'request_value_missing')
  const plain = await check(ALICE_TOKEN, '/by-header', { headers: { 'x-model': 'gpt-4o-mini' } })
  assert.equal(
    plain.denied_response?.body,
    'RBAC: access denied',
    'without explainDenials the body stays static',
  )
})

test('examples/llm-gateway.yaml keeps the seeds: Alice asking for gpt-4o-mini is allowed there (seed 001)', async () => {
  const res = await check(ALICE_TOKEN, '/openai', { body: chat('gpt-4o-mini') }, seeds)
  assert.equal(res.status?.code, 0)
})
