// Dev-only: the in-process Check handler cost for the seed tokens, without the full `npm run
// bench` (no servers, no load generators). Each line is ns per allowed Check over N sequential
// calls (BENCH_N, default 200000): Alice on /openai and Bob on /mistralai (the seed config),
// Alice with a key per team (examples/team-keys.yaml) and from a pool (examples/key-pool.yaml),
// and a route that reads the request (its allow is made per Check, not kept per token) with a
// plain secret and with the pool, where the pool's choice runs on every Check.
// Usage: node --import tsx scripts/bench/handler-micro.ts
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ALICE_TOKEN, BOB_TOKEN } from '../../test/helpers/keys.js'
import { handlerMicros } from './handler.js'
import { benchRequest } from './requests.js'

const N = Number(process.env.BENCH_N ?? 200_000)
const dir = mkdtempSync(join(tmpdir(), 'bench-handler-'))

/** An example with decision lines off, as `npm run bench` measures its handler row. */
function quiet(example: string, name: string, edit = (text: string) => text): string {
  const config = join(dir, name)
  const text = readFileSync(example, 'utf8').replace('listen:', 'log: { level: warn }\nlisten:')
  writeFileSync(config, edit(text))
  return config
}

/** The route also sets a header from the request: its allow can no longer be kept per token. */
const readsRequest = (text: string) =>
  text.replace(
    'x-user-id: { claim: sub }',
    'x-user-id: { claim: sub }\n        x-client: { value: "${request.header.x-stainless-lang}" }',
  )
/** key-pool.yaml with a plain secret in place of the pool. */
const plainSecret = (text: string) =>
  text.replace(
    / {2}openai:\n {4}pool:[\s\S]*?\n\nproviders:/,
    '  openai: { env: OPENAI_KEY_1, default: k }\n\nproviders:',
  )

async function main(): Promise<void> {
  const seed = quiet('examples/llm-gateway.yaml', 'seed.yaml')
  const lines: [string, string, string, string?][] = [
    ['alice', seed, ALICE_TOKEN],
    ['bob', seed, BOB_TOKEN, '/mistralai/v1/chat'],
    ['team', quiet('examples/team-keys.yaml', 'team.yaml'), ALICE_TOKEN],
    ['pool', quiet('examples/key-pool.yaml', 'pool.yaml'), ALICE_TOKEN],
    [
      'per-check plain',
      quiet('examples/key-pool.yaml', 'rp.yaml', (t) => readsRequest(plainSecret(t))),
      ALICE_TOKEN,
    ],
    ['per-check pool', quiet('examples/key-pool.yaml', 'rq.yaml', readsRequest), ALICE_TOKEN],
  ]
  for (const [name, config, token, path] of lines) {
    const micros = await handlerMicros(config, benchRequest(token, path), N)
    console.log(`${name} ${Math.round(micros * 1000)} ns/op`)
  }
}

try {
  await main()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
