import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { DENY, DENY_REASONS, type DenyReason } from '../../src/decision/deny.js'
import type { CheckRequest, CheckResponse } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN, BOB_TOKEN, DEV_TOKEN, HF_TOKEN } from '../helpers/keys.js'
import { assertProperty } from '../helpers/property.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Property tests through the real gRPC server (the seed config): whatever arrives, the
 * server answers a well-formed CheckResponse, never fails the RPC, keeps serving, and never
 * allows a request that carries no valid token. Run counts are bounded to keep CI fast; each
 * run prints its seed (FC_SEED replays it, see CONTRIBUTING.md "Tests").
 */
let server: TestServer
before(async () => {
  server = await startTestServer({ file: 'examples/llm-gateway.yaml' })
})
after(() => server.close())

const VALID = [ALICE_TOKEN, BOB_TOKEN, DEV_TOKEN, HF_TOKEN]

/**
 * An allow, or a deny exactly as the deny table gives it for its reason (status code, HTTP
 * status, static body). Any reason the table has may come back (a path of `.` is correctly
 * `path_not_normalized`, 400), except `internal_error`: bad input is handled, never a fault.
 */
function assertWellFormed(res: CheckResponse): void {
  assert.equal(typeof res.status?.code, 'number')
  if (res.status!.code === 0) {
    assert.ok(res.ok_response !== undefined && res.denied_response === undefined)
    return
  }
  const reason = res.status!.message as DenyReason
  assert.ok(DENY_REASONS.includes(reason), `unknown deny reason ${JSON.stringify(reason)}`)
  assert.notEqual(reason, 'internal_error', 'arbitrary input must not reach internal_error')
  const spec = DENY[reason]
  assert.equal(res.status!.code, spec.grpc, reason)
  assert.ok(res.denied_response !== undefined, 'every deny carries denied_response')
  assert.equal(res.denied_response.status?.code, spec.http, reason)
  assert.equal(res.denied_response.body, spec.body, reason)
}

const headerName = fc.stringMatching(/^[a-z0-9-]{1,30}$/)
const anyText = fc.string({ unit: 'binary', maxLength: 200 })
const path = fc.oneof(
  fc.constantFrom('/openai', '/mistralai/v1', '/huggingface-gloo-gw', '/llm-d/x', '/', ''),
  fc.string({ maxLength: 100 }),
)

const arbitraryRequest: fc.Arbitrary<CheckRequest> = fc.record(
  {
    attributes: fc.record(
      {
        request: fc.record(
          {
            http: fc.record(
              {
                method: fc.oneof(fc.constantFrom('GET', 'POST', 'get'), anyText),
                path,
                host: anyText,
                scheme: anyText,
                headers: fc.dictionary(
                  fc.oneof(headerName, anyText, fc.constant('authorization')),
                  anyText,
                  { maxKeys: 60 },
                ),
                header_map: fc.record({
                  headers: fc.array(
                    fc.record({
                      key: fc.oneof(headerName, fc.constant('authorization')),
                      raw_value: fc.uint8Array({ maxLength: 300 }),
                    }),
                    { maxLength: 40 },
                  ),
                }),
                body: fc.string({ maxLength: 2000 }),
                raw_body: fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
        context_extensions: fc.dictionary(anyText, anyText, { maxKeys: 5 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
)

test('arbitrary CheckRequests: always a well-formed answer, never an allow without a token', async (t) => {
  await assertProperty(
    t,
    fc.asyncProperty(arbitraryRequest, async (req) => {
      const res = await server.client.check(req)
      assertWellFormed(res)
      // The seed config has no anonymous route: no valid token, no allow.
      assert.notEqual(res.status?.code, 0)
    }),
    { numRuns: 400 },
  )
})

/** Tokens built from pieces of valid ones: header/payload/signature swapped, bytes flipped. */
const arbitraryToken = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc
    .array(fc.base64String({ maxLength: 200 }), { minLength: 1, maxLength: 5 })
    .map((parts) => parts.join('.').replace(/[+/=]/g, 'A')),
  // Seed tokens share headers, so a mix can rebuild a genuine token: those are filtered out.
  fc
    .tuple(fc.constantFrom(...VALID), fc.constantFrom(...VALID), fc.constantFrom(...VALID))
    .map(([a, b, c]) => [a.split('.')[0], b.split('.')[1], c.split('.')[2]].join('.'))
    .filter((t) => !VALID.includes(t)),
  fc
    .tuple(fc.constantFrom(...VALID), fc.nat(), fc.constantFrom('A', 'B', '_', '-', 'x'))
    .map(([t, at, ch]) => {
      // Flip one character of the payload (not the signature's padding bits, which may not matter).
      const [h, p, s] = t.split('.') as [string, string, string]
      const i = at % (p.length - 2)
      return p[i] === ch ? `${h}.${p}x.${s}` : `${h}.${p.slice(0, i)}${ch}${p.slice(i + 1)}.${s}`
    }),
)

test('arbitrary and mutated tokens on every seed route: never allowed, never an RPC error', async (t) => {
  await assertProperty(
    t,
    fc.asyncProperty(
      arbitraryToken,
      fc.constantFrom('/openai', '/mistralai', '/huggingface-gloo-gw', '/llm-d'),
      async (token, route) => {
        const res = await server.client.check(
          checkRequest({
            method: 'POST',
            path: route,
            headers: { authorization: `Bearer ${token}` },
          }),
        )
        assertWellFormed(res)
        assert.notEqual(res.status?.code, 0, `${route} allowed a forged token`)
      },
    ),
    { numRuns: 400 },
  )
})

test('after the fuzzing the server still allows a valid request', async () => {
  const res = await server.client.check(
    checkRequest({
      method: 'POST',
      path: '/openai',
      headers: { authorization: `Bearer ${ALICE_TOKEN}` },
    }),
  )
  assert.equal(res.status?.code, 0)
})
