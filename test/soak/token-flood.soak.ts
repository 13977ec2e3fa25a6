import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { base64url } from 'jose'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Endurance, not behaviour: `npm run test:soak` (CI runs it after `npm test`). Minutes of
 * load that would double the suite's time and say nothing a behaviour test does not.
 */
let server: TestServer
before(async () => {
  // Logs are written (decision lines included) but not kept: the flood measures the server.
  server = await startTestServer({ file: 'examples/llm-gateway.yaml' }, undefined, {
    keepLogs: false,
  })
})
after(() => server.close())

function rssAfterGc(): number {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
  return process.memoryUsage().rss
}

test('a flood of 100,000 distinct invalid tokens keeps memory bounded', async (t) => {
  const [header, , signature] = ALICE_TOKEN.split('.') as [string, string, string]
  const forged = (i: number) =>
    `${header}.${base64url.encode(JSON.stringify({ iss: 'solo.io', sub: `attacker-${i}`, llms: { openai: ['gpt-3.5-turbo'] } }))}.${signature}`
  const send = async (from: number, count: number) => {
    const batch = 200
    for (let i = from; i < from + count; i += batch) {
      const results = await Promise.all(
        Array.from({ length: batch }, (_, j) =>
          server.client.check(
            checkRequest({
              method: 'POST',
              path: '/openai',
              headers: { authorization: `Bearer ${forged(i + j)}` },
            }),
          ),
        ),
      )
      for (const r of results) assert.equal(r.status?.message, 'signature_invalid')
    }
  }
  await send(0, 5_000) // warm up: JIT, pools, grpc buffers
  const before = rssAfterGc()
  await send(5_000, 100_000)
  const growth = (rssAfterGc() - before) / 1024 / 1024
  t.diagnostic(`RSS growth over 100k invalid tokens: ${growth.toFixed(1)} MiB`)
  assert.ok(growth < 64, `RSS grew ${growth.toFixed(1)} MiB over 100k invalid tokens`)
})
