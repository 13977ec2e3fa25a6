import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { eventually } from './eventually.js'
import { ALICE_TOKEN, BOB_TOKEN, DEV_TOKEN, HF_TOKEN } from './keys.js'
import type { SeenRequest } from './recording-upstream.js'
import { DEMO_ENV } from './server.js'

/** A loopback port nothing listens on right now (for a proxy's listen directive). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/** One real HTTP request. The path is sent as written: a URL would resolve `..` first. */
export function send(
  url: string,
  method: string,
  /** A list sends the header once per value, in order. */
  headers: Record<string, string | string[]> = {},
  body?: string | Buffer,
): Promise<Answer> {
  const { origin, hostname, port } = new URL(url)
  const path = url.slice(origin.length) || '/'
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      )
    })
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * Polls until `url` answers at all (any status): however long a loaded machine takes to start
 * the proxy (the test timeout bounds it), but at once an error when `proc` exits first.
 */
export async function waitUntilAnswering(
  url: string,
  log: () => string,
  proc?: ChildProcess,
): Promise<void> {
  let exited = proc?.exitCode == null ? undefined : String(proc.exitCode)
  proc?.once('exit', (code, signal) => (exited = String(code ?? signal)))
  await eventually(`${url} to answer`, async () => {
    if (exited !== undefined) throw new Error(`the proxy exited (${exited}): ${log()}`)
    return (await send(url, 'GET').catch(() => undefined)) !== undefined
  })
}

export interface Gateway {
  /** http://127.0.0.1:port of the proxy. */
  readonly base: string
  readonly seen: readonly SeenRequest[]
  readonly log: () => string
}

const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
const json = { 'content-type': 'application/json' }

/**
 * The acceptance scenarios of issue 9, through a real proxy in front of jwt-ext-authz (HTTP
 * listener, examples/llm-gateway.yaml) and a recording upstream.
 */
export function gatewayScenarios(
  proxy: string,
  gateway: () => Gateway,
  skip: string | false,
  /** Whether the proxy's example copies the optional headers (X-User-Id, Content-Type). */
  copies: { readonly optionalHeaders: boolean } = { optionalHeaders: true },
): void {
  const go = (path: string, method: string, headers?: Record<string, string>, body?: string) =>
    send(`${gateway().base}${path}`, method, headers, body)

  test(
    `${proxy}: Alice reaches OpenAI with the OpenAI key, never with her JWT`,
    { skip },
    async () => {
      const { seen, log } = gateway()
      const before = seen.length
      const res = await go(
        '/openai/v1/chat/completions',
        'POST',
        { ...json, authorization: `Bearer ${ALICE_TOKEN}`, 'x-user-id': 'someone-else' },
        CHAT,
      )
      assert.equal(res.status, 200, log())
      assert.equal(res.body, '{"upstream":true}')
      assert.equal(seen.length, before + 1)
      const got = seen.at(-1)!
      assert.equal(got.url, '/v1/chat/completions', 'the gateway prefix stripped on the way up')
      assert.equal(got.headers.authorization, `Bearer ${DEMO_ENV.OPENAI_API_KEY}`)
      assert.equal(
        got.headers['x-user-id'],
        copies.optionalHeaders ? 'alice' : undefined,
        'the token says who, never the client',
      )
      assert.equal(got.headers['content-type'], 'application/json')
      assert.equal(got.body, CHAT, 'the body reaches the upstream untouched')
      assert.ok(!JSON.stringify(got).includes(ALICE_TOKEN.split('.')[2]!), 'no part of her JWT')
    },
  )

  test(
    `${proxy}: the Hugging Face token gets the HF key (and the route's content type)`,
    { skip },
    async () => {
      const res = await go(
        '/huggingface-gloo-gw',
        'POST',
        { authorization: `Bearer ${HF_TOKEN}`, 'content-type': 'text/plain' },
        '{}',
      )
      assert.equal(res.status, 200, gateway().log())
      const got = gateway().seen.at(-1)!
      // Seed 004's prefixRewrite, at Hugging Face's router (as envoy/envoy.yaml).
      assert.equal(got.url, '/hf-inference/models/openai-community/gpt2')
      assert.equal(got.headers.authorization, `Bearer ${DEMO_ENV.HF_API_TOKEN}`)
      const type = copies.optionalHeaders ? 'application/json' : 'text/plain'
      assert.equal(got.headers['content-type'], type, "the route's content type, if copied")
    },
  )

  test(
    `${proxy}: Bob is refused 403 on OpenAI and the upstream never sees him`,
    { skip },
    async () => {
      const before = gateway().seen.length
      const res = await go(
        '/openai/v1/chat/completions',
        'POST',
        { ...json, authorization: `Bearer ${BOB_TOKEN}` },
        CHAT,
      )
      assert.equal(res.status, 403)
      assert.equal(gateway().seen.length, before)
    },
  )

  test(
    `${proxy}: no token is 401 with the WWW-Authenticate challenge; nothing denied goes up`,
    { skip },
    async () => {
      const before = gateway().seen.length
      const res = await go('/openai/v1/chat/completions', 'POST', json, CHAT)
      assert.equal(res.status, 401)
      assert.match(
        String(res.headers['www-authenticate']),
        /^Bearer realm="http:\/\/127\.0\.0\.1(:\d+)?\/openai\/v1\/chat\/completions"$/,
      )
      const forged = await go(
        '/openai/v1/chat/completions',
        'POST',
        { ...json, authorization: `Bearer ${ALICE_TOKEN.slice(0, -6)}AAAAAA` },
        CHAT,
      )
      assert.equal(forged.status, 401)
      assert.match(String(forged.headers['www-authenticate']), /error="invalid_token"/)
      // No route: the proxy's own 404 (nginx, as Envoy) or, asked first, our default deny.
      const nowhere = await go('/admin', 'GET', { authorization: `Bearer ${ALICE_TOKEN}` })
      assert.ok([403, 404].includes(nowhere.status), `no route: ${nowhere.status}`)
      // Sent raw: the proxy passes the URI on as it came, and the upstream would resolve it.
      const escape = await go('/openai/../mistralai/v1/chat/completions', 'POST', {
        ...json,
        authorization: `Bearer ${ALICE_TOKEN}`,
      })
      assert.ok(escape.status >= 400, `a dot-segment path is refused (${escape.status})`)
      assert.equal(gateway().seen.length, before)
    },
  )

  test(
    `${proxy}: /%6Fpenai is the /openai route (the proxy serves it as /openai): 401, Bob 403, nothing up`,
    { skip },
    async () => {
      const before = gateway().seen.length
      const path = '/%6Fpenai/v1/chat/completions'
      const bare = await go(path, 'POST', json, CHAT)
      assert.equal(bare.status, 401, gateway().log())
      assert.match(String(bare.headers['www-authenticate']), /^Bearer realm="http:\/\/127\.0\.0\.1/)
      const bob = await go(path, 'POST', { ...json, authorization: `Bearer ${BOB_TOKEN}` }, CHAT)
      assert.equal(bob.status, 403)
      assert.equal(gateway().seen.length, before, 'no denied request reaches the upstream')
      const alice = await go(
        path,
        'POST',
        { ...json, authorization: `Bearer ${ALICE_TOKEN}` },
        CHAT,
      )
      assert.equal(alice.status, 200)
      const got = gateway().seen.at(-1)!
      assert.equal(got.headers.authorization, `Bearer ${DEMO_ENV.OPENAI_API_KEY}`)
      assert.equal(got.url, '/v1/chat/completions', 'served as the /openai route, stripped')
    },
  )

  test(
    `${proxy}: POST /openai is the chat API and the llm-d prefix is stripped too, as Envoy does`,
    { skip },
    async () => {
      const alice = await go(
        '/openai',
        'POST',
        { ...json, authorization: `Bearer ${ALICE_TOKEN}` },
        CHAT,
      )
      assert.equal(alice.status, 200, gateway().log())
      assert.equal(gateway().seen.at(-1)!.url, '/v1/chat/completions')
      // Caddy's example serves only routes that set Authorization (its copy_headers note).
      if (!copies.optionalHeaders) return
      const dev = await go('/llm-d/v1/models?x=1', 'GET', { authorization: `Bearer ${DEV_TOKEN}` })
      assert.equal(dev.status, 200, gateway().log())
      assert.equal(gateway().seen.at(-1)!.url, '/v1/models?x=1')
    },
  )
}
