import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { SignJWT } from 'jose'
import type { CheckResponse } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import { send } from '../helpers/gateway-scenarios.js'
import { ALICE_TOKEN, DEV_SECRET } from '../helpers/keys.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

// A request value is a tagged result: a header whose value is spelled like a deny reason is
// still that value, judged against the token like any other model name.
const PROBLEM_NAMES = [
  'body_missing',
  'body_truncated',
  'body_invalid',
  'body_ambiguous',
  'request_value_missing',
]

let server: TestServer
before(async () => {
  const [head] = readFileSync('examples/model-aware.yaml', 'utf8').split('\nroutes:')
  server = await startTestServer({
    yaml: `${head}
routes:
  - name: by-header
    match: { prefix: /by-header }
    providers: [solo, dev]
    rbac:
      policies:
        models:
          nestedClaimDelimiter: .
          principals: [{ jwtPrincipal: { claims: { llms.openai: "\${request.header.x-model}" }, matcher: LIST_CONTAINS } }]
    explainDenials: true
    denyBody: openai
    upstream:
      headers:
        x-authorized-model: { value: "\${request.header.x-model}" }
`,
  })
})
after(() => server.close())

function check(token: string, model: string): Promise<CheckResponse> {
  return server.client.check(
    checkRequest({
      method: 'POST',
      path: '/by-header/v1/chat/completions',
      headers: { authorization: `Bearer ${token}`, 'x-model': model },
    }),
    { deadlineMs: 20_000 },
  )
}

test('a header whose value is literally a deny reason is refused as that model, not as the reason', async () => {
  for (const name of PROBLEM_NAMES) {
    const res = await check(ALICE_TOKEN, name)
    assert.equal(res.status?.message, 'rbac_denied', name)
    assert.equal(
      JSON.parse(res.denied_response!.body!).error.message,
      `${name} is not allowed by llms.openai; allowed: gpt-3.5-turbo`,
    )
  }
})

test('a token allowing a model named like a deny reason is allowed, and the header carries it', async () => {
  const token = await new SignJWT({ llms: { openai: PROBLEM_NAMES } })
    .setProtectedHeader({ alg: 'HS256', kid: 'dev-key' })
    .setIssuer('dev')
    .setSubject('dev-user')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(DEV_SECRET))
  for (const name of PROBLEM_NAMES) {
    const res = await check(token, name)
    assert.equal(res.status?.code, 0, `${name}: ${res.status?.message}`)
    const set = res.ok_response?.headers?.find((h) => h.header?.key === 'x-authorized-model')
    assert.equal(set?.header?.value, name)
  }
})

test('a header a rule reads that is sent twice is ambiguous: denied, whichever value comes first', async () => {
  for (const models of [
    ['gpt-3.5-turbo', 'gpt-4o'],
    ['gpt-4o', 'gpt-3.5-turbo'],
    ['gpt-3.5-turbo', 'gpt-3.5-turbo'],
  ]) {
    // Envoy's header_map (encode_raw_headers) keeps each line of a repeated header.
    const grpc = await server.client.check(
      checkRequest({
        method: 'POST',
        path: '/by-header/v1/chat/completions',
        headerMap: [
          [':path', '/by-header/v1/chat/completions'],
          ['authorization', `Bearer ${ALICE_TOKEN}`],
          ...models.map((m): [string, string] => ['x-model', m]),
        ],
      }),
    )
    assert.equal(grpc.status?.message, 'header_ambiguous', models.join(' then '))
    assert.equal(grpc.denied_response?.status?.code, 403)
    assert.equal(JSON.parse(grpc.denied_response!.body!).error.code, 'header_ambiguous')
    const forward = await send(`${server.httpAuthz}/forward-auth`, 'POST', {
      authorization: `Bearer ${ALICE_TOKEN}`,
      'x-forwarded-uri': '/by-header/v1/chat/completions',
      'x-model': models,
    })
    assert.equal(forward.status, 403, models.join(' then '))
    assert.equal(JSON.parse(forward.body).error.code, 'header_ambiguous')
  }
})
