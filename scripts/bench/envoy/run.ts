// npm run bench:envoy: HTTP load through a real Envoy (one worker) in front of each
// authorization set-up, side by side in one run. This process, Envoy, wrk and the echo
// upstream share CPU 1 (package.json runs it under `taskset -c 1`); every authorizer runs
// alone on CPU 0. Results: BENCHMARKS.md, benchmarks-envoy.json, benchmarks-envoy.svg.
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { startEchoUpstream, type EchoUpstream } from '../../../test/helpers/echo-upstream.js'
import { compareVerifiers } from '../verify.js'
import { writeChart } from './chart.js'
import { machine, writeEnvoyReport, type EnvoyResults } from './report.js'
import { runLatencyRows } from './latency-rows.js'
import { runRow, type RowResult, type RowSpec } from './rows.js'
import { BEFORE, FIXED, startSetUp, type SetUp, type SetUpName } from './setups.js'
import { benchKeys, type BenchKeys } from './tokens.js'
import { writeTokens, type Load } from './wrk.js'
import { scratchDir } from './scratch.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3)
const COLD = Number(process.env.BENCH_COLD_TOKENS ?? 10_000)
const CONNECTIONS = 64
const OPENAI_KEY = 'bench-openai-key'
/** Every set-up, `ours` first: the fixed-allow servers answer what it answered. */
const ALL: readonly SetUpName[] = [
  'ours',
  'envoy',
  'jwt_authn',
  'ours-sampled',
  'ours-cold',
  'ours-http',
  'opa',
  'baseline',
  'floor',
  'h2-sync',
  'h2-turn',
  'baseline-turn',
  ...(BEFORE === undefined ? [] : (['ours-before'] as const)),
]
/** The set-ups of the latency rows, the floor first (each repeat's ratios are to its run). */
const LATENCY_SETUPS: readonly SetUpName[] = [
  'floor',
  'ours',
  'ours-http',
  'ours-before',
  'baseline',
  'baseline-turn',
  'h2-sync',
  'h2-turn',
  'jwt_authn',
  'envoy',
]
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? SECONDS)
const LATENCY_REPEATS = Number(process.env.BENCH_LATENCY_REPEATS ?? 5)
/** BENCH_SETUPS=a,b,... runs those only (while iterating); ours always starts. */
const CHOSEN: readonly SetUpName[] = process.env.BENCH_SETUPS
  ? ['ours', ...(process.env.BENCH_SETUPS.split(',') as SetUpName[]).filter((n) => n !== 'ours')]
  : ALL
/** BENCH_ROWS=flat,latency (both by default). */
const ROWS = new Set((process.env.BENCH_ROWS ?? 'flat,latency').split(','))

const log = (line: string) =>
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`)

/** Us, as shipped and with decisions sampled, against every other set-up. */
const HOT_PAIRS: RowSpec['pairs'] = [
  ['ours', 'opa'],
  ['ours-sampled', 'opa'],
  ['ours', 'baseline'],
  ['ours-sampled', 'baseline'],
  ['ours', 'jwt_authn'],
  ['ours', 'envoy'],
  ['ours-before', 'baseline'],
  ['ours-http', 'baseline'],
]
const LIGHT_PAIRS: RowSpec['pairs'] = [
  ['ours', 'jwt_authn'],
  ['ours', 'envoy'],
  ['ours', 'baseline'],
  ['jwt_authn', 'envoy'],
]
const COLD_PAIRS: RowSpec['pairs'] = [
  ['ours-cold', 'opa'],
  ['ours-cold', 'jwt_authn'],
  ['ours-cold', 'baseline'],
]

function rows(files: { hot: string; cold: string }) {
  const flat = { seconds: SECONDS, connections: CONNECTIONS, sampleEvery: 1000 }
  const hot: Load = { ...flat, tokensFile: files.hot }
  const hotRow: RowSpec = {
    id: 'hot',
    title: "hot token (seed 003's Alice), flat out, 64 connections",
    load: hot,
    compare: 'rps',
    pairs: HOT_PAIRS,
  }
  const coldRow: RowSpec = {
    id: 'cold',
    title: `cold tokens (${COLD} distinct, fresh RS256 key), flat out, 64 connections`,
    load: { ...flat, tokensFile: files.cold },
    compare: 'rps',
    pairs: COLD_PAIRS,
  }
  const paced = (rate: number): RowSpec => ({
    id: 'paced',
    title: `hot token paced evenly at ${rate} req/s (half of set-up 3's flat-out rate)`,
    load: { ...hot, rate, sampleEvery: 500 },
    compare: 'p99',
    pairs: HOT_PAIRS,
  })
  // us / jwt_authn without wrk's Lua in the way: set-ups 1 and 2 are Envoy alone on CPU 1,
  // where load.lua's per-response Lua took CPU from Envoy and capped their rate.
  const lightRow: RowSpec = {
    id: 'light',
    title: 'hot token, flat out, 64 connections, one static request (light.lua)',
    load: { ...hot, light: true },
    compare: 'rps',
    pairs: LIGHT_PAIRS,
  }
  return { flat: [hotRow, coldRow, lightRow], paced }
}

async function measureAll(
  setUps: Map<SetUpName, SetUp>,
  echo: EchoUpstream,
  files: { hot: string; cold: string },
) {
  const ctx = { echo, openaiKey: OPENAI_KEY }
  const spec = rows(files)
  // Only the pairs whose both set-ups run (BENCH_SETUPS).
  const present = (row: RowSpec): RowSpec => ({
    ...row,
    pairs: row.pairs.filter(([a, b]) => setUps.has(a) && setUps.has(b)),
  })
  const results: RowResult[] = []
  for (const row of spec.flat.map(present)) {
    if (row.pairs.length === 0) continue
    log(`row: ${row.title}`)
    results.push(await runRow(row, setUps, ctx, REPEATS, log))
  }
  const oursHot = results[0]!.setUps.find((s) => s.setUp === 'ours')!
  const paced = present(spec.paced(Math.floor(oursHot.rps / 2)))
  log(`row: ${paced.title}`)
  results.push(await runRow(paced, setUps, ctx, REPEATS, log))
  return results
}

async function measureLatency(
  setUps: ReadonlyMap<SetUpName, SetUp>,
  files: { hot: string },
  keys: BenchKeys,
) {
  const chosen = new Map(
    LATENCY_SETUPS.filter((n) => setUps.has(n)).map((n) => [n, setUps.get(n)!] as const),
  )
  const load = { tokensFile: files.hot, token: keys.hot[0]!.token, seconds: LATENCY_SECONDS }
  log(`latency rows: ${[...chosen.keys()].join(', ')}`)
  return runLatencyRows(chosen, load, LATENCY_REPEATS, log)
}

async function startAll(keys: BenchKeys, echo: EchoUpstream, into: Map<SetUpName, SetUp>) {
  for (const name of CHOSEN) {
    // The baseline answers what ours answered (ALL starts ours first).
    const baselineAnswer = FIXED.has(name) ? into.get('ours')?.hotAnswer : undefined
    const ctx = { keys, openaiKey: OPENAI_KEY, echoPort: echo.port }
    into.set(name, await startSetUp(name, baselineAnswer ? { ...ctx, baselineAnswer } : ctx))
    log(`started ${name}`)
  }
}

async function main(): Promise<number> {
  const loadBefore = loadavg()[0]!
  log(
    `1-minute load average ${loadBefore.toFixed(2)}; ${SECONDS} s runs, ${REPEATS} repeats a pair`,
  )
  process.env.OPENAI_API_KEY = OPENAI_KEY
  const keys = await benchKeys(COLD)
  const dir = scratchDir('envoy')
  const files = { hot: join(dir, 'hot.tsv'), cold: join(dir, 'cold.tsv') }
  writeTokens(files.hot, keys.hot)
  writeTokens(files.cold, keys.cold)
  const echo = await startEchoUpstream()
  const setUps = new Map<SetUpName, SetUp>()
  const stopAll = async () => {
    for (const s of setUps.values()) await s.stop()
    setUps.clear()
    await echo.stop()
  }
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)))
  try {
    await startAll(keys, echo, setUps)
    const results = ROWS.has('flat') ? await measureAll(setUps, echo, files) : []
    const latency = ROWS.has('latency') ? await measureLatency(setUps, files, keys) : []
    await stopAll()
    log('jose RS256 verifications alone (the cold ceiling)')
    const jose = (await compareVerifiers())[0]!.perSecond
    const after = loadavg()[0]!
    const report: EnvoyResults = Object.assign(
      { machine: machine(), loadAverage: { before: loadBefore, after } },
      { seconds: SECONDS, repeats: REPEATS, coldTokens: COLD, connections: CONNECTIONS },
      { joseVerificationsPerSecond: jose, rows: results, latency },
    )
    // A part (BENCH_SETUPS, BENCH_ROWS, BENCH_LATENCY_MODELS) prints its tables; only a whole
    // run is the record.
    const whole = ['BENCH_SETUPS', 'BENCH_ROWS', 'BENCH_LATENCY_MODELS'].every(
      (v) => process.env[v] === undefined,
    )
    writeEnvoyReport(report, whole)
    if (whole) await writeChart(report)
    const failed = [...results, ...latency].some((r) => r.setUps.some((s) => s.problems.length))
    return failed ? 1 : 0
  } finally {
    await stopAll()
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:envoy failed: ${(err as Error).stack}\n`)
    process.exit(1)
  },
)
