import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { envoySkip } from './envoy.js'
import { startEnvoyGateway, type EnvoyGateway, type EnvoyGatewayOptions } from './envoy-gateway.js'
import { ALICE_TOKEN, BOB_TOKEN, DEV_TOKEN, HF_TOKEN } from './keys.js'
import { DEMO_ENV } from './server.js'

const skip = envoySkip()
const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
const json = { 'content-type': 'application/json' }

/** No part of a JWT (header, payload or signature) anywhere in what the upstream received. */
function assertNoTraceOf(token: string, seen: unknown): void {
  const text = JSON.stringify(seen)
  for (const part of token.split('.')) assert.ok(!text.includes(part), 'no part of the JWT')
}

/** The seed scenarios through a real Envoy, as a client sees them. */
export function seedScenarios(label: string, options: EnvoyGatewayOptions): void {
  describe(`${label} in front of jwt-ext-authz`, { skip }, () => {
    let gw: EnvoyGateway
    before(async () => {
      gw = await startEnvoyGateway(options)
    })
    after(() => gw?.stop())

    test('the test says what it changed in the shipped file', (t) => {
      for (const change of gw.changes) t.diagnostic(change)
      assert.ok(gw.changes.length > 0)
    })

    test('seed 001/003: Alice reaches OpenAI with the key in one authorization header, her own x-user-id replaced, no trace of her JWT', async () => {
      const res = await gw.request(
        '/openai/v1/chat/completions',
        'POST',
        { ...json, authorization: `Bearer ${ALICE_TOKEN}`, 'x-user-id': 'someone-else' },
        CHAT,
      )
      assert.equal(res.status, 200, res.body)
      const got = await gw.echo.waitFor((r) => r.body === CHAT)
      assert.equal(got.path, '/v1/chat/completions', 'the gateway prefix is stripped')
      assert.equal(got.headers.authorization, `Bearer ${DEMO_ENV.OPENAI_API_KEY}`)
      assert.equal(got.headers['x-user-id'], 'alice', 'replaced, never appended')
      assertNoTraceOf(ALICE_TOKEN, got)
    })

    test("seed 001's own request, POST /openai, reaches the provider's chat API as kgateway's AI backend sends it", async () => {
      const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [], seed: 'bare-prefix' })
      const res = await gw.request(
        '/openai',
        'POST',
        { ...json, authorization: `Bearer ${ALICE_TOKEN}` },
        body,
      )
      assert.equal(res.status, 200, res.body)
      const got = await gw.echo.waitFor((r) => r.body === body)
      assert.equal(got.path, '/v1/chat/completions')
      assert.equal(got.headers.authorization, `Bearer ${DEMO_ENV.OPENAI_API_KEY}`)
    })

    test('seed 003: Bob gets 403 RBAC: access denied and never reaches the upstream', async () => {
      const before = gw.echo.seen.length
      const res = await gw.request(
        '/openai/v1/chat/completions',
        'POST',
        { ...json, authorization: `Bearer ${BOB_TOKEN}` },
        CHAT,
      )
      assert.equal(res.status, 403)
      assert.equal(res.body, 'RBAC: access denied')
      await gw.assertNothingReachedSince(before)
    })

    test('seed 003: no token is 401 with www-authenticate: Bearer realm="<url>"', async () => {
      const before = gw.echo.seen.length
      const res = await gw.request('/openai/v1/chat/completions', 'POST', json, CHAT)
      assert.equal(res.status, 401)
      assert.equal(
        res.headers['www-authenticate'],
        `Bearer realm="${gw.envoy.base}/openai/v1/chat/completions"`,
      )
      assert.equal(res.body, 'Jwt is missing')
      const forged = await gw.request('/openai/v1/chat/completions', 'POST', {
        ...json,
        authorization: `Bearer ${ALICE_TOKEN.slice(0, -6)}AAAAAA`,
      })
      assert.equal(forged.status, 401)
      assert.match(String(forged.headers['www-authenticate']), /error="invalid_token"/)
      await gw.assertNothingReachedSince(before)
    })

    test("seed 000: llm-d's HS256 dev token reaches /llm-d without its JWT", async () => {
      const res = await gw.request('/llm-d/v1/completions', 'POST', {
        ...json,
        authorization: `Bearer ${DEV_TOKEN}`,
      })
      assert.equal(res.status, 200, res.body)
      const got = await gw.echo.waitFor((r) => r.path === '/v1/completions')
      assert.equal(got.headers.authorization, undefined)
      assertNoTraceOf(DEV_TOKEN, got)
    })

    test("seed 004: the workshop token reaches Hugging Face with the HF token and the route's content type", async () => {
      const res = await gw.request(
        '/huggingface-gloo-gw',
        'POST',
        { authorization: `Bearer ${HF_TOKEN}`, 'content-type': 'text/plain' },
        '{"inputs": "What are the advantages of running Gloo Gateway in AWS?"}',
      )
      assert.equal(res.status, 200, res.body)
      // Seed 004's prefixRewrite, at Hugging Face's router.
      const got = await gw.echo.waitFor(
        (r) => r.path === '/hf-inference/models/openai-community/gpt2',
      )
      assert.equal(got.headers.authorization, `Bearer ${DEMO_ENV.HF_API_TOKEN}`)
      assert.equal(got.headers['content-type'], 'application/json')
      assertNoTraceOf(HF_TOKEN, got)
    })

    test('a path no Envoy route serves is 404 from Envoy, which does not even ask us', async () => {
      const before = gw.echo.seen.length
      const res = await gw.request('/admin', 'GET', { authorization: `Bearer ${ALICE_TOKEN}` })
      assert.equal(res.status, 404)
      const metrics = await (await fetch(`${gw.service.http}/metrics`)).text()
      assert.ok(!metrics.includes('reason="no_route"'), 'ext_authz is skipped without a route')
      await gw.assertNothingReachedSince(before)
    })
  })
}
