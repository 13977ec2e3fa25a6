import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, test } from 'node:test'
import type { CheckResponse } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import { send, type Answer } from '../helpers/gateway-scenarios.js'
import {
  ALICE_TOKEN,
  BOB_TOKEN,
  DEV_TOKEN,
  HF_TOKEN,
  SEED_PEM_PUBLIC_KEY,
} from '../helpers/keys.js'
import { DEMO_ENV, startTestServer, type TestServer } from '../helpers/server.js'

let seeds: TestServer
let models: TestServer
let urlToken: TestServer
before(async () => {
  seeds = await startTestServer({ file: 'examples/llm-gateway.yaml' })
  models = await startTestServer({ file: 'examples/model-aware.yaml' })
  urlToken = await startTestServer({
    yaml: `
providers:
  solo:
    issuer: solo.io
    tokenSources: [{ header: authorization, prefix: "Bearer " }, { query: access_token }]
    jwks: { local: { key: ${JSON.stringify(SEED_PEM_PUBLIC_KEY)} } }
routes:
  - name: websocket
    match: { prefix: /ws }
`,
  })
})
after(async () => {
  await Promise.all([seeds.close(), models.close(), urlToken.close()])
})

/** One real HTTP request to the authorization listener. */
function ask(
  base: string,
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return send(`${base}${path}`, o.method ?? 'GET', o.headers, o.body)
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** What the client or the upstream would see, from either adapter, in one shape. */
function fromGrpc(res: CheckResponse): {
  status: number
  headers: Record<string, string>
  body: string
} {
  if (res.status?.code === 0) {
    const headers: Record<string, string> = {}
    for (const h of res.ok_response?.headers ?? []) headers[h.header!.key!] = h.header!.value!
    const remove = res.ok_response?.headers_to_remove ?? []
    if (remove.length > 0) headers['x-envoy-auth-headers-to-remove'] = remove.join(', ')
    return { status: 200, headers, body: '' }
  }
  const headers: Record<string, string> = {}
  for (const h of res.denied_response?.headers ?? []) headers[h.header!.key!] = h.header!.value!
  return {
    status: res.denied_response!.status!.code!,
    headers,
    body: res.denied_response!.body ?? '',
  }
}

function fromHttp(a: Answer, names: readonly string[]) {
  const headers: Record<string, string> = {}
  for (const name of names) {
    const v = a.headers[name]
    if (v !== undefined) headers[name] = String(v)
  }
  return { status: a.status, headers, body: a.body }
}

const CASES: {
  name: string
  server: () => TestServer
  path: string
  headers: Record<string, string>
  body?: string
}[] = [
  {
    name: 'seed 001 Alice on OpenAI',
    server: () => seeds,
    path: '/openai/v1/chat/completions',
    headers: bearer(ALICE_TOKEN),
  },
  {
    name: 'seed 003 Bob on OpenAI',
    server: () => seeds,
    path: '/openai/v1/chat/completions',
    headers: bearer(BOB_TOKEN),
  },
  {
    name: 'seed 003 Bob on Mistral',
    server: () => seeds,
    path: '/mistralai/v1/chat/completions',
    headers: bearer(BOB_TOKEN),
  },
  {
    name: 'seed 004 HF token',
    server: () => seeds,
    path: '/huggingface-gloo-gw/models/x',
    headers: bearer(HF_TOKEN),
  },
  {
    name: 'seed 000 llm-d',
    server: () => seeds,
    path: '/llm-d/v1/completions',
    headers: bearer(DEV_TOKEN),
  },
  { name: 'no token', server: () => seeds, path: '/openai/v1/chat/completions', headers: {} },
  {
    name: 'forged signature',
    server: () => seeds,
    path: '/openai',
    headers: bearer(`${ALICE_TOKEN.slice(0, -6)}AAAAAA`),
  },
  { name: 'no route', server: () => seeds, path: '/nowhere', headers: bearer(ALICE_TOKEN) },
  {
    name: 'model allowed',
    server: () => models,
    path: '/openai/v1/chat/completions',
    headers: { ...bearer(ALICE_TOKEN), 'content-type': 'application/json' },
    body: '{"model":"gpt-3.5-turbo"}',
  },
  {
    name: 'model refused, explained',
    server: () => models,
    path: '/openai/v1/chat/completions',
    headers: { ...bearer(ALICE_TOKEN), 'content-type': 'application/json' },
    body: '{"model":"gpt-4o-mini"}',
  },
]

const COMPARED = [
  'authorization',
  'x-user-id',
  'content-type',
  'x-authorized-model',
  'www-authenticate',
  'x-envoy-auth-headers-to-remove',
]

for (const c of CASES) {
  test(`HTTP answers as gRPC does: ${c.name}`, async () => {
    const grpc = fromGrpc(
      await c.server().client.check(
        checkRequest({
          method: 'POST',
          path: c.path,
          host: 'gw.example.com',
          headers: c.headers,
          body: c.body,
        }),
      ),
    )
    const viaEnvoy = await ask(c.server().httpAuthz, `/envoy${c.path}`, {
      method: 'POST',
      headers: { host: 'gw.example.com', ...c.headers },
      body: c.body,
    })
    const viaForward = await ask(c.server().httpAuthz, '/forward-auth', {
      headers: {
        ...c.headers,
        'x-forwarded-method': 'POST',
        'x-forwarded-uri': c.path,
        'x-forwarded-host': 'gw.example.com',
        ...(c.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(c.body)) }),
      },
      body: c.body,
    })
    assert.deepEqual(fromHttp(viaEnvoy, COMPARED), grpc, 'Envoy http_service')
    assert.deepEqual(fromHttp(viaForward, COMPARED), grpc, 'forward auth')
    assert.equal(viaEnvoy.headers['cache-control'], 'no-store')
  })
}

test('the seed scenarios read as a client expects them over HTTP', async () => {
  const alice = await ask(seeds.httpAuthz, '/envoy/openai/v1/chat/completions', {
    headers: bearer(ALICE_TOKEN),
  })
  assert.equal(alice.status, 200)
  assert.equal(alice.headers.authorization, `Bearer ${DEMO_ENV.OPENAI_API_KEY}`)
  const bob = await ask(seeds.httpAuthz, '/envoy/openai/v1/chat/completions', {
    headers: bearer(BOB_TOKEN),
  })
  assert.equal(bob.status, 403)
  assert.equal(bob.body, 'RBAC: access denied')
  assert.equal(bob.headers.authorization, undefined, 'a deny carries no key')
  const none = await ask(seeds.httpAuthz, '/envoy/openai', { headers: { host: 'gw' } })
  assert.equal(none.status, 401)
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="http://gw/openai"')
})

test("nginx's X-Original-URI / X-Original-Method convention works too", async () => {
  const a = await ask(seeds.httpAuthz, '/forward-auth', {
    headers: {
      ...bearer(BOB_TOKEN),
      'x-original-uri': '/mistralai/v1/chat/completions',
      'x-original-method': 'POST',
    },
  })
  assert.equal(a.status, 200)
  assert.equal(a.headers.authorization, `Bearer ${DEMO_ENV.MISTRAL_API_KEY}`)
})

test('forward auth without the original URI is a clear 400, never an allow', async () => {
  const a = await ask(seeds.httpAuthz, '/forward-auth', { headers: bearer(ALICE_TOKEN) })
  assert.equal(a.status, 400)
  assert.match(a.body, /X-Forwarded-Uri/)
  assert.equal(a.headers.authorization, undefined)
})

test('any other path is a 404 naming the two endpoints', async () => {
  const a = await ask(seeds.httpAuthz, '/openai', { headers: bearer(ALICE_TOKEN) })
  assert.equal(a.status, 404)
  assert.match(a.body, /path_prefix \/envoy/)
  assert.match(a.body, /\/forward-auth/)
  assert.equal(a.headers.authorization, undefined)
})

test('a body over limits.maxBodyBytes is refused 413 without being read, declared or streamed', async () => {
  const big = Buffer.alloc(2 * 1024 * 1024, 'a')
  const headers = { ...bearer(ALICE_TOKEN), 'content-type': 'application/json' }
  const declared = await ask(models.httpAuthz, '/envoy/openai/v1/chat/completions', {
    method: 'POST',
    headers,
    body: big,
  })
  assert.equal(declared.status, 413)
  // Chunked: no content-length, the limit is found while reading.
  const streamed = await new Promise<number>((resolve, reject) => {
    const req = request(
      `${models.httpAuthz}/envoy/openai/v1/chat/completions`,
      { method: 'POST', headers },
      (res) => {
        res.resume()
        resolve(res.statusCode!)
      },
    )
    req.on('error', reject)
    for (let i = 0; i < 4; i++) req.write(big.subarray(0, 512 * 1024))
    req.end()
  })
  assert.equal(streamed, 413)
})

test('a token taken from the URL is refused over HTTP: the proxy could not strip it upstream', async () => {
  const url = `/ws/stream?access_token=${ALICE_TOKEN}`
  const grpc = await urlToken.client.check(checkRequest({ method: 'GET', path: url }))
  assert.equal(grpc.status?.code, 0, 'over gRPC Envoy removes the query parameter')
  assert.deepEqual(grpc.ok_response?.query_parameters_to_remove, ['access_token'])
  const http = await ask(urlToken.httpAuthz, `/envoy${url}`)
  assert.equal(http.status, 403)
  assert.match(http.body, /cannot be removed/)
  assert.equal(http.headers.authorization, undefined)
})

test('the same route over HTTP allows a token sent in a header: only a URL token is refused', async () => {
  const res = await ask(urlToken.httpAuthz, '/envoy/ws/stream?page=2', {
    headers: bearer(ALICE_TOKEN),
  })
  assert.equal(res.status, 200)
  assert.equal(res.headers['x-envoy-auth-headers-to-remove'], 'authorization')
})

test('every HTTP Check is counted like a gRPC one', async () => {
  const count = async () => {
    const text = await urlToken.metrics.registry.metrics()
    const m =
      /ext_authz_checks_total\{route="websocket",decision="deny",reason="query_token_unsupported"\} (\d+)/.exec(
        text,
      )
    return Number(m?.[1] ?? 0)
  }
  const before = await count()
  await ask(urlToken.httpAuthz, `/envoy/ws?access_token=${ALICE_TOKEN}`)
  assert.equal(await count(), before + 1, 'counted as the deny it answered, not the allow decided')
})

test("ingress-nginx's X-Original-URL (the whole URL) names path, host and scheme", async () => {
  const a = await ask(seeds.httpAuthz, '/forward-auth', {
    headers: {
      'x-original-url': 'https://gw.example.com/openai/v1/chat/completions?stream=true',
      'x-original-method': 'POST',
    },
  })
  assert.equal(a.status, 401)
  assert.equal(
    a.headers['www-authenticate'],
    'Bearer realm="https://gw.example.com/openai/v1/chat/completions"',
  )
  const alice = await ask(seeds.httpAuthz, '/forward-auth', {
    headers: { ...bearer(ALICE_TOKEN), 'x-original-url': 'https://gw.example.com/openai' },
  })
  assert.equal(alice.status, 200)
  const junk = await ask(seeds.httpAuthz, '/forward-auth', {
    headers: { ...bearer(ALICE_TOKEN), 'x-original-url': 'javascript:alert(1)' },
  })
  assert.equal(junk.status, 400, 'not an http(s) URL: no original URI')
})
