import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fromStruct } from '../../src/proto/struct.js'
import type { CheckResponse, HeaderValueOption } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import { healthStatus } from '../helpers/health-client.js'
import { ALICE_TOKEN, BOB_TOKEN, DEV_TOKEN, HF_TOKEN } from '../helpers/keys.js'
import { DEMO_ENV, startTestServer, type TestServer } from '../helpers/server.js'

let server: TestServer
before(async () => {
  server = await startTestServer({ file: 'examples/llm-gateway.yaml' })
})
after(() => server.close())

const CHAT_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Whats your favorite poem?' }],
})

function call(
  path: string,
  token?: string,
  extra: Record<string, string> = {},
): Promise<CheckResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra }
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  return server.client.check(
    checkRequest({ method: 'POST', path, host: 'gw.example.com:8080', headers, body: CHAT_BODY }),
  )
}

function headerMap(options: readonly HeaderValueOption[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const h of options ?? []) out[h.header!.key!] = h.header!.value!
  return out
}

function assertOverwrites(options: readonly HeaderValueOption[] | undefined): void {
  for (const h of options ?? []) {
    assert.equal(h.append?.value, false, `${h.header?.key}: append must be false`)
    assert.equal(
      h.append_action,
      2,
      `${h.header?.key}: append_action must be OVERWRITE_IF_EXISTS_OR_ADD`,
    )
  }
}

function assertForbidden(res: CheckResponse): void {
  assert.equal(res.status?.code, 7, 'PERMISSION_DENIED')
  assert.equal(res.denied_response?.status?.code, 403)
  assert.equal(res.denied_response?.body, 'RBAC: access denied')
  assert.deepEqual(headerMap(res.denied_response?.headers), { 'content-type': 'text/plain' })
  assert.equal(res.ok_response, undefined)
}

test('seed 001: Alice asking OpenAI for gpt-4o-mini is allowed, the OpenAI key replaces her JWT', async () => {
  const res = await call('/openai', ALICE_TOKEN)
  assert.equal(res.status?.code, 0)
  assert.equal(res.denied_response, undefined)
  assert.deepEqual(headerMap(res.ok_response?.headers), {
    authorization: `Bearer ${DEMO_ENV.OPENAI_API_KEY}`,
    'x-user-id': 'alice',
  })
  assertOverwrites(res.ok_response?.headers)
  assert.ok(
    !(res.ok_response?.headers_to_remove ?? []).includes('authorization'),
    'a set header must not also be removed',
  )
  assert.deepEqual(fromStruct(res.dynamic_metadata!), {
    route: 'openai',
    provider: 'solo',
    iss: 'solo.io',
    sub: 'alice',
    team: 'dev',
    org: 'solo.io',
    key_id: 'openai',
  })
})

test('seed 003: Bob on OpenAI gets 403 RBAC: access denied', async () => {
  assertForbidden(await call('/openai', BOB_TOKEN))
})

test('seed 003: Bob on Mistral is allowed with the Mistral key', async () => {
  const res = await call('/mistralai/v1/chat/completions', BOB_TOKEN)
  assert.equal(res.status?.code, 0)
  assert.equal(
    headerMap(res.ok_response?.headers).authorization,
    `Bearer ${DEMO_ENV.MISTRAL_API_KEY}`,
  )
  assert.equal(fromStruct(res.dynamic_metadata!).sub, 'bob')
})

test('seed 003: no token gets 401 with the realm Envoy gives, query string left out', async () => {
  const res = await server.client.check(
    checkRequest({
      method: 'POST',
      path: '/openai?api_key=secret',
      host: 'gw.example.com:8080',
      headers: {},
    }),
  )
  assert.equal(res.status?.code, 16, 'UNAUTHENTICATED')
  assert.equal(res.denied_response?.status?.code, 401)
  assert.equal(res.denied_response?.body, 'Jwt is missing')
  assert.deepEqual(headerMap(res.denied_response?.headers), {
    'content-type': 'text/plain',
    'www-authenticate': 'Bearer realm="http://gw.example.com:8080/openai"',
  })
})

test('seed 004: the workshop token reaches Hugging Face with the HF token and a JSON content type', async () => {
  const res = await call('/huggingface-gloo-gw', HF_TOKEN, { 'content-type': 'text/plain' })
  assert.equal(res.status?.code, 0)
  assert.deepEqual(headerMap(res.ok_response?.headers), {
    authorization: `Bearer ${DEMO_ENV.HF_API_TOKEN}`,
    'content-type': 'application/json',
  })
  assertOverwrites(res.ok_response?.headers)
})

test('seed 004: Alice has no Hugging Face model and gets 403', async () => {
  assertForbidden(await call('/huggingface-gloo-gw', ALICE_TOKEN))
})

test('seed 000: the llm-d HS256 dev token (inline JWKS, oct key) is allowed on /llm-d, its JWT removed', async () => {
  const res = await call('/llm-d/v1/completions', DEV_TOKEN)
  assert.equal(res.status?.code, 0)
  assert.deepEqual(res.ok_response?.headers ?? [], [])
  assert.deepEqual(res.ok_response?.headers_to_remove, ['authorization'])
  assert.deepEqual(fromStruct(res.dynamic_metadata!), {
    route: 'llm-d',
    provider: 'dev',
    iss: 'dev',
    sub: 'dev-user',
  })
})

test('a token of a provider the route does not accept is 401 issuer not accepted', async () => {
  for (const [path, token] of [
    ['/openai', DEV_TOKEN],
    ['/llm-d', ALICE_TOKEN],
  ] as const) {
    const res = await call(path, token)
    assert.equal(res.status?.code, 16)
    assert.equal(res.status?.message, 'issuer_unknown')
    assert.equal(res.denied_response?.status?.code, 401)
    assert.equal(res.denied_response?.body, 'Jwt verification fails: issuer not accepted')
    assert.equal(
      headerMap(res.denied_response?.headers)['www-authenticate'],
      `Bearer realm="http://gw.example.com:8080${path}", error="invalid_token", error_description="issuer not accepted"`,
    )
  }
})

test('a path no route matches is 403 (default deny)', async () => {
  const res = await call('/admin', ALICE_TOKEN)
  assertForbidden(res)
  assert.equal(res.status?.message, 'no_route')
})

test('a tampered seed token is 401 signature invalid', async () => {
  const [h, p, s] = ALICE_TOKEN.split('.')
  const payload = Buffer.from(p!, 'base64url').toString().replace('"alice"', '"admin"')
  const res = await call('/openai', `${h}.${Buffer.from(payload).toString('base64url')}.${s}`)
  assert.equal(res.denied_response?.status?.code, 401)
  assert.equal(res.status?.message, 'signature_invalid')
  assert.equal(res.denied_response?.body, 'Jwt verification fails: signature invalid')
})

test('headers sent raw in header_map (encode_raw_headers) are read like the headers map', async () => {
  const res = await server.client.check(
    checkRequest({
      method: 'POST',
      path: '/openai',
      host: 'gw',
      headerMap: [['authorization', `Bearer ${ALICE_TOKEN}`]],
    }),
  )
  assert.equal(res.status?.code, 0)
  const twice = await server.client.check(
    checkRequest({
      method: 'POST',
      path: '/openai',
      host: 'gw',
      headerMap: [
        ['authorization', `Bearer ${ALICE_TOKEN}`],
        ['authorization', `Bearer ${BOB_TOKEN}`],
      ],
    }),
  )
  assert.equal(twice.status?.message, 'token_malformed', 'two Authorization headers are ambiguous')
})

test('a CheckRequest with no attributes at all is denied and the server keeps serving', async () => {
  const res = await server.client.check({})
  assertForbidden(res)
  assert.equal(res.status?.message, 'no_route')
  assert.equal((await call('/openai', ALICE_TOKEN)).status?.code, 0)
})

test('the secret values never appear in a deny', async () => {
  for (const res of [
    await call('/openai', BOB_TOKEN),
    await call('/openai', 'garbage'),
    await call('/openai'),
  ]) {
    const text = JSON.stringify(res)
    for (const secret of Object.values(DEMO_ENV)) assert.ok(!text.includes(secret))
  }
})

test('grpc.health.v1 on the Check port answers SERVING for the server and the Check service', async () => {
  for (const name of ['', 'envoy.service.auth.v3.Authorization'])
    assert.equal(await healthStatus(server.address, name), 'SERVING')
})
