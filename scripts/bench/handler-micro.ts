// Dev-only: the in-process Check handler cost for the seed tokens, without the full `npm run
// bench` (no servers, no load generators). Alice on /openai and Bob on /mistralai are both
// allowed; each line is ns per Check over N sequential calls (BENCH_N, default 200000).
// Usage: node --import tsx scripts/bench/handler-micro.ts
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ALICE_TOKEN, BOB_TOKEN } from '../../test/helpers/keys.js'
import { handlerMicros } from './handler.js'
import { benchRequest } from './requests.js'

const N = Number(process.env.BENCH_N ?? 200_000)

async function main(): Promise<void> {
  // The seed config with decision lines off, as `npm run bench` measures its handler row.
  const config = join(mkdtempSync(join(tmpdir(), 'bench-handler-')), 'config.yaml')
  const seed = readFileSync('examples/llm-gateway.yaml', 'utf8')
  writeFileSync(config, seed.replace('listen:', 'log: { level: warn }\nlisten:'))
  const alice = await handlerMicros(config, benchRequest(ALICE_TOKEN), N)
  const bob = await handlerMicros(config, benchRequest(BOB_TOKEN, '/mistralai/v1/chat'), N)
  console.log(`alice ${Math.round(alice * 1000)} ns/op`)
  console.log(`bob ${Math.round(bob * 1000)} ns/op`)
}

await main()
