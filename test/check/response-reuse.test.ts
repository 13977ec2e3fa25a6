import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { decide } from '../../src/check/decide.js'
import { ResponseEncoder } from '../../src/check/encode.js'
import { toCheckResponse } from '../../src/check/response.js'
import type { Decision } from '../../src/decision/decision.js'
import { loadEngine } from '../../src/engine/load.js'
import { encodeCheckResponse } from '../../src/proto/load.js'
import { authRequest } from '../helpers/auth-request.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { tempDir } from '../helpers/temp-dir.js'

/** One encoder for the file, as one Check server has one. */
const responses = new ResponseEncoder()
const alice = authRequest({ headers: { authorization: `Bearer ${ALICE_TOKEN}` } })
const chat = (model: string) =>
  authRequest({
    headers: { authorization: `Bearer ${ALICE_TOKEN}`, 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ model })),
    bodyBytes: 30,
  })

function allowed(decision: Decision) {
  assert.equal(decision.kind, 'allow', JSON.stringify(decision))
  return decision
}

test('a repeated token on a token-only route gets the same allow, encoded once', async () => {
  const engine = loadEngine('examples/llm-gateway.yaml', { env: {} })
  const first = allowed(await decide(engine, alice))
  const second = allowed(await decide(engine, alice))
  assert.equal(second, first, 'the same Allow object')
  assert.equal(first.kind === 'allow' && first.shared, true)
  const bytes = responses.encode(first, alice)
  assert.equal(responses.encode(second, alice), bytes, 'the same encoded bytes')
  assert.deepEqual(bytes, encodeCheckResponse(toCheckResponse(first, alice)))
})

test('without the token cache every Check renders its own allow', async () => {
  const yaml = readFileSync('examples/llm-gateway.yaml', 'utf8').replace(
    'listen:',
    'tokenCache: { maxEntries: 0 }\nlisten:',
  )
  const file = join(tempDir('shared-allow'), 'config.yaml')
  writeFileSync(file, yaml)
  const engine = loadEngine(file, { env: {} })
  const first = allowed(await decide(engine, alice))
  const second = allowed(await decide(engine, alice))
  assert.notEqual(second, first, 'claims verified afresh give a fresh allow')
  assert.deepEqual(second, first)
})

test('a route whose allow reads the request never shares one', async () => {
  const engine = loadEngine('examples/model-aware.yaml', { env: {} })
  const first = allowed(await decide(engine, chat('gpt-3.5-turbo')))
  const second = allowed(await decide(engine, chat('gpt-3.5-turbo')))
  assert.notEqual(second, first)
  assert.equal(first.kind === 'allow' && first.shared, false)
  // And the rule still runs on every Check: the next model is refused.
  assert.equal((await decide(engine, chat('gpt-4o-mini'))).kind, 'deny')
})

test('a repeated denial is encoded once per reason, style and challenged URL', async () => {
  const engine = loadEngine('examples/llm-gateway.yaml', { env: {} })
  const noToken = (host: string, pathname = '/openai') => authRequest({ host, pathname })
  const first = await decide(engine, noToken('gw-a'))
  assert.equal(first.kind, 'deny')
  const bytes = responses.encode(first, noToken('gw-a'))
  assert.equal(responses.encode(await decide(engine, noToken('gw-a')), noToken('gw-a')), bytes)
  // Another host is another challenge: its own bytes, naming its own realm.
  const other = responses.encode(first, noToken('gw-b'))
  assert.notDeepEqual(other, bytes)
  assert.deepEqual(other, encodeCheckResponse(toCheckResponse(first, noToken('gw-b'))))
  assert.match(other.toString('latin1'), /realm="http:\/\/gw-b\/openai"/)
  // A long URL is answered right but not kept.
  const long = noToken('gw-a', `/openai/${'x'.repeat(400)}`)
  const longBytes = responses.encode(first, long)
  assert.deepEqual(longBytes, encodeCheckResponse(toCheckResponse(first, long)))
  assert.notEqual(responses.encode(first, long), longBytes)
})
