// npm run bench:soak: jwt-ext-authz as shipped behind Envoy for 10 minutes (BENCH_SOAK_SECONDS)
// of flat-out load mixing the hot token (50%), cold tokens (40%, more distinct ones than the
// token cache holds, so it keeps evicting) and invalid ones (10%, each distinct: forged
// signatures), with the RSS of our process and of Envoy sampled every second. Reported: the
// RSS slope after the first minute (least squares, MiB per minute). Pinned as bench:envoy.
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { startEchoUpstream } from '../../../test/helpers/echo-upstream.js'
import { rssMb } from '../servers.js'
import { machine } from './report.js'
import { writeSoakReport, type SoakResults } from './soak-report.js'
import { startSetUp, type SetUp } from './setups.js'
import { benchKeys, type BenchKeys, type SubToken } from './tokens.js'
import { checkUpstream } from './upstream-view.js'
import { wrk, writeTokens } from './wrk.js'
import { scratchDir } from './scratch.js'

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 600)
const COLD = Number(process.env.BENCH_SOAK_COLD_TOKENS ?? 30_000)
const OPENAI_KEY = 'bench-openai-key'

/** Every 10 requests: 5 hot, 4 cold, 1 invalid, cycling through the distinct tokens. */
function mixture(keys: BenchKeys, invalid: readonly SubToken[]): SubToken[] {
  const out: SubToken[] = []
  const hot = keys.hot[0]!
  for (let i = 0; i < keys.cold.length; i += 4) {
    for (let k = 0; k < 4; k++) out.push(hot, keys.cold[(i + k) % keys.cold.length]!)
    out.push(hot, invalid[(i / 4) % invalid.length]!)
  }
  return out
}

/** Least-squares slope of (seconds, MiB) in MiB per minute. */
export function slopePerMinute(points: readonly { t: number; mb: number }[]): number {
  const n = points.length
  if (n < 2) return 0
  const mt = points.reduce((s, p) => s + p.t, 0) / n
  const mm = points.reduce((s, p) => s + p.mb, 0) / n
  const cov = points.reduce((s, p) => s + (p.t - mt) * (p.mb - mm), 0)
  const varT = points.reduce((s, p) => s + (p.t - mt) ** 2, 0)
  return (cov / varT) * 60
}

/** The mixed tokens file, and the share of invalid tokens in it. */
async function mixedTokens(): Promise<{ keys: BenchKeys; file: string; invalidShare: number }> {
  const keys = await benchKeys(COLD)
  // Distinct invalid tokens: the cold ones with a broken signature.
  const invalid = keys.cold.map((t) => ({ sub: t.sub, token: `${t.token.slice(0, -6)}AAAAAA` }))
  const mixed = mixture(keys, invalid)
  const bad = new Set(invalid)
  const file = join(scratchDir('soak'), 'mixed.tsv')
  writeTokens(file, mixed)
  return { keys, file, invalidShare: mixed.filter((t) => bad.has(t)).length / mixed.length }
}

/** wrk flat out for SECONDS, the RSS of our process and of Envoy sampled every second. */
async function soak(setUp: SetUp, file: string) {
  const pid = setUp.authz!.pid
  const series: { t: number; ours: number; envoy: number }[] = []
  const started = Date.now()
  const sample = () => {
    const t = (Date.now() - started) / 1000
    series.push({ t, ours: rssMb([pid]), envoy: rssMb([setUp.envoyPid]) })
  }
  sample()
  const sampler = setInterval(sample, 1000)
  const load = { tokensFile: file, seconds: SECONDS, connections: 64, sampleEvery: 997 }
  const result = await wrk(setUp.envoy.base, load).finally(() => clearInterval(sampler))
  sample()
  return { result, series }
}

async function main(): Promise<number> {
  const loadBefore = loadavg()[0]!
  process.env.OPENAI_API_KEY = OPENAI_KEY
  const { keys, file, invalidShare } = await mixedTokens()
  const echo = await startEchoUpstream()
  const setUp = await startSetUp('ours', { keys, openaiKey: OPENAI_KEY, echoPort: echo.port })
  try {
    const { result, series } = await soak(setUp, file)
    const upstream = await checkUpstream(echo, 0, result.samplesOk, 'rewritten', OPENAI_KEY)
    const after = series.filter((p) => p.t >= 60)
    const slope = (key: 'ours' | 'envoy') =>
      slopePerMinute(after.map((p) => ({ t: p.t, mb: p[key] })))
    const res: SoakResults = Object.assign(
      { machine: machine(), loadAverage: { before: loadBefore, after: loadavg()[0]! } },
      { seconds: SECONDS, coldTokens: COLD, wrk: result, expectedInvalidShare: invalidShare },
      { upstream, slope: { ours: slope('ours'), envoy: slope('envoy') }, series },
    )
    return (await writeSoakReport(res)) ? 0 : 1
  } finally {
    await setUp.stop()
    await echo.stop()
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:soak failed: ${(err as Error).stack}\n`)
    process.exit(1)
  },
)
