// npm run bench:budgets: what budgets cost through Envoy. One stack (Redis, envoyproxy/ratelimit,
// jwt-ext-authz, an OpenAI-compatible upstream that reports usage, as in test/budgets) behind
// two Envoys that differ only in the budget filters: envoy/envoy-budgets.yaml as shipped
// (ext_authz, ratelimit, json_to_metadata, sse_to_metadata, router) and the same without the
// last three but the router. Runs go in pairs, back to back, the order swapped each time, so a
// slow spell of this shared 2-core machine hits both sides; ratios are medians of the pairs.
// Results: the "Budgets" section at the end of BENCHMARKS.md.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release } from 'node:os'
import { join } from 'node:path'
import {
  callerToken,
  httpFilters,
  startBudgetGateway,
  type BudgetGateway,
} from '../../test/helpers/budget-gateway.js'
import type { EnvoyBootstrap } from '../../test/helpers/envoy-gateway.js'
import { ENVOY_VERSION, type RunningEnvoy } from '../../test/helpers/envoy.js'
import { tempDir } from '../../test/helpers/temp-dir.js'
import { median } from './envoy/rows.js'
import { failures, wrk, writeTokens, type Load, type WrkResult } from './envoy/wrk.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5)
const CONNECTIONS = 32
const CALLERS = 64
/** Every limit far above what a run sends: nothing is refused, everything is counted. */
const BUDGETS = `
limits:
  user-model: { per: [user, model], requests: 4000000000/day, tokens: 4000000000/day }
  team: { per: [team], requests: 4000000000/day }
`
const BUDGET_FILTERS = ['ratelimit', 'json_to_metadata', 'sse_to_metadata']

const log = (line: string) =>
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`)

/** The "off" Envoy: no budget filter left. */
function withoutBudgets(bootstrap: EnvoyBootstrap): void {
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  hcm.http_filters = httpFilters(bootstrap).filter(
    (f) => !BUDGET_FILTERS.includes(f.name.replace('envoy.filters.http.', '')),
  )
}

interface Side {
  readonly rps: number[]
  readonly p50Us: number[]
  readonly p99Us: number[]
  /** CPU µs per request of envoyproxy/ratelimit and Redis. */
  readonly counterCpuUs: number[]
  /** CPU µs per request of jwt-ext-authz. */
  readonly authzCpuUs: number[]
}

interface Pairs {
  readonly load: Load
  readonly on: Side
  readonly off: Side
  /** on / off, one per pair. */
  readonly ratios: { readonly rps: number[]; readonly p50: number[]; readonly p99: number[] }
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}

async function measure(gw: BudgetGateway, envoy: RunningEnvoy, load: Load, side: Side) {
  const warm = await wrk(envoy.base, { ...load, seconds: 1 })
  const counters = [gw.ratelimit.pid, gw.redis.pid]
  const authz = gw.services[0]!.proc.pid!
  const before = counters.map(cpuSeconds)
  const authzBefore = cpuSeconds(authz)
  const run: WrkResult = await wrk(envoy.base, load)
  const problems = [...failures(warm), ...failures(run)]
  if (problems.length > 0) throw new Error(`${envoy.base}: ${problems.join(', ')}`)
  const rps = run.requests / (run.durationUs / 1e6)
  side.rps.push(rps)
  side.p50Us.push(run.p50Us)
  side.p99Us.push(run.p99Us)
  const cpu = counters.reduce((sum, pid, i) => sum + cpuSeconds(pid) - before[i]!, 0)
  side.counterCpuUs.push((cpu * 1e6) / run.requests)
  side.authzCpuUs.push(((cpuSeconds(authz) - authzBefore) * 1e6) / run.requests)
  return run
}

async function pairs(gw: BudgetGateway, off: RunningEnvoy, load: Load): Promise<Pairs> {
  const side = (): Side => ({ rps: [], p50Us: [], p99Us: [], counterCpuUs: [], authzCpuUs: [] })
  const result: Pairs = { load, on: side(), off: side(), ratios: { rps: [], p50: [], p99: [] } }
  for (let i = 0; i < REPEATS; i++) {
    const order = i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)
    const runs: Record<string, WrkResult> = {}
    for (const which of order)
      runs[which] = await measure(gw, which === 'on' ? gw.envoy : off, load, result[which])
    const [on, o] = [runs.on!, runs.off!]
    result.ratios.rps.push(on.requests / on.durationUs / (o.requests / o.durationUs))
    result.ratios.p50.push(on.p50Us / o.p50Us)
    result.ratios.p99.push(on.p99Us / o.p99Us)
    log(`  pair ${i + 1}: on ${on.requests} req, off ${o.requests} req`)
  }
  return result
}

const f = (n: number, d = 0) => n.toFixed(d)
const spread = (xs: readonly number[]) =>
  `**${f(median(xs), 2)}** (${f(Math.min(...xs), 2)}–${f(Math.max(...xs), 2)})`
const ms = (us: number) => f(us / 1000, 2)

function section(flat: Pairs, paced: Pairs, calls: string, load: string): string {
  const row = (label: string, p: Pairs, latency: (us: number) => string) =>
    `| ${label} | ${f(median(p.off.rps))} (${latency(median(p.off.p50Us))} / ${latency(median(p.off.p99Us))}) | ${f(median(p.on.rps))} (${latency(median(p.on.p50Us))} / ${latency(median(p.on.p99Us))}) | ${spread(p.ratios.rps)} | ${spread(p.ratios.p50)} | ${spread(p.ratios.p99)} | ${f(median(p.on.counterCpuUs))} / ${f(median(p.on.authzCpuUs))} |`
  return [
    `Measured ${new Date().toISOString().slice(0, 16)}Z on ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Linux ${release()}; Node ${process.version}, Envoy ${ENVOY_VERSION}, envoyproxy/ratelimit (scripts/install-ratelimit.sh), Redis ${redisVersion()}.`,
    `"Off" is the same Envoy and stack without the ratelimit, json_to_metadata and sse_to_metadata filters. ${load} Every process unpinned on the 2 cores; ${REPEATS} pairs × ${SECONDS} s per side (after 1 s of warm-up each), back to back, order swapped each time; ratios are the median of the pairs (lowest–highest).`,
    '',
    '| load | budgets off: req/s (p50 / p99) | budgets on: req/s (p50 / p99) | req/s on / off | p50 on / off | p99 on / off | CPU µs a request, on: ratelimit + Redis / jwt-ext-authz |',
    '|---|---|---|---|---|---|---|',
    row(`flat out, ${CONNECTIONS} connections (ms)`, flat, ms),
    row(`paced at ${paced.load.rate} req/s (half of "on" flat out; µs)`, paced, (us) => f(us)),
    '',
    calls,
  ].join('\n')
}

function redisVersion(): string {
  const out = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout
  return /v=(\S+)/.exec(out)?.[1] ?? 'unknown'
}

function writeSection(text: string): void {
  const file = 'BENCHMARKS.md'
  const heading = "## Budgets: Envoy's rate limit filter on vs off (`npm run bench:budgets`)"
  const block = `<!-- budgets -->\n${text}\n<!-- /budgets -->`
  const doc = readFileSync(file, 'utf8')
  const next = /<!-- budgets -->[\s\S]*<!-- \/budgets -->/.test(doc)
    ? doc.replace(/<!-- budgets -->[\s\S]*<!-- \/budgets -->/, block)
    : `${doc.trimEnd()}\n\n${heading}\n\n${block}\n`
  writeFileSync(file, next)
}

async function main(): Promise<void> {
  const before = loadavg()[0]!
  log('starting Redis, envoyproxy/ratelimit, jwt-ext-authz, the upstream and two Envoys')
  const gw = await startBudgetGateway({ budgets: BUDGETS, variants: { off: withoutBudgets } })
  try {
    const off = gw.variants.get('off')!
    const tokensFile = join(tempDir('bench-budgets'), 'tokens.tsv')
    const tokens = await Promise.all(
      Array.from({ length: CALLERS }, async (_, i) => ({
        sub: `caller-${i}`,
        token: await callerToken(`caller-${i}`, ['gpt-3.5-turbo'], { team: `team-${i % 4}` }),
      })),
    )
    writeTokens(tokensFile, tokens)
    const load: Load = { tokensFile, seconds: SECONDS, connections: CONNECTIONS, sampleEvery: 1e9 }
    log('flat out')
    const flat = await pairs(gw, off, load)
    const rate = Math.round(median(flat.on.rps) / 2)
    log(`paced at ${rate} req/s`)
    const paced = await pairs(gw, off, { ...load, rate })
    const answered = (await gw.envoy.stat('http.llm_ingress.downstream_rq_completed')) ?? 0
    const calls = await gw.rateLimitCalls()
    const callLine = `Rate limit calls per request through the "on" Envoy: ${f(calls / answered, 2)} (the check before the request, the token charge after it); no request refused, no failure. ${CALLERS} callers in 4 teams, each request counted by 3 limits (user × model requests and tokens, team requests).`
    const loadLine = `wrk (scripts/bench/envoy/load.lua): POST /openai/v1/chat/completions, a small JSON body, ${CALLERS} HS256 tokens cycled; the upstream (in the bench process) answers each with usage.total_tokens. 1-minute load average ${f(before, 2)} before, ${f(loadavg()[0]!, 2)} after.`
    const text = section(flat, paced, callLine, loadLine)
    writeSection(text)
    process.stdout.write(`${text}\n`)
  } finally {
    await gw.stop()
  }
}

await main()
