// The results of `npm run bench:envoy`: benchmarks-envoy.json (everything measured, the chart's
// input) and the table at the head of BENCHMARKS.md, between its <!-- envoy --> markers.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, release } from 'node:os'
import { findEnvoy } from '../../../test/helpers/envoy.js'
import { OPA_BIN } from './opa.js'
import type { LatencyRowResult } from './latency-rows.js'
import { latencySection } from './latency-report.js'
import type { Ratio, RowResult, SetUpSummary } from './rows.js'
import { LABELS, type SetUpName } from './setups.js'

export interface EnvoyResults {
  readonly machine: string
  readonly loadAverage: { readonly before: number; readonly after: number }
  readonly seconds: number
  readonly repeats: number
  readonly coldTokens: number
  readonly connections: number
  /** jose 6 jwtVerify RS256 per second, one core (the cold row's ceiling). */
  readonly joseVerificationsPerSecond: number
  readonly rows: readonly RowResult[]
  /** Closed loop with think time and open loop at constant rates (latency-rows.ts). */
  readonly latency: readonly LatencyRowResult[]
}

export const RESULTS_FILE = 'benchmarks-envoy.json'

/** What a command prints about itself (wrk prints its usage too, and exits 1). */
function output(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string }
    return `${e.stdout ?? ''}${e.stderr ?? ''}`
  }
}

export function machine(): string {
  const envoy = /version: \S+?\/([\d.]+)\//.exec(output(findEnvoy() ?? 'envoy', ['--version']))?.[1]
  const opa = /^Version: (\S+)/m.exec(output(OPA_BIN, ['version']))?.[1]
  const wrk = /^wrk (\S+)/m.exec(output('wrk', ['-v']))?.[1]
  return `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Linux ${release()}; Node ${process.version}, Envoy ${envoy}, opa-envoy-plugin ${opa}-envoy, wrk ${wrk}`
}

const f = (n: number, d = 0) => n.toFixed(d)
const ms = (us: number) => f(us / 1000, 2)

function row(r: readonly RowResult[], id: string): RowResult | undefined {
  return r.find((x) => x.spec.id === id)
}

function summary(r: RowResult | undefined, name: SetUpName): SetUpSummary | undefined {
  return r?.setUps.find((s) => s.setUp === name)
}

function ratio(r: RowResult | undefined, a: SetUpName, b: SetUpName): Ratio | undefined {
  return r?.ratios.find((x) => x.a === a && x.b === b)
}

const shown = (x: Ratio | undefined) =>
  x === undefined ? '—' : `**${f(x.median, 2)}** (${f(x.low, 2)}–${f(x.high, 2)})`

function setUpTable(res: EnvoyResults): string[] {
  const { hot, cold, paced } = rowsOf(res)
  const names = Object.keys(LABELS) as SetUpName[]
  const lines = names.flatMap((name) => {
    const h = summary(hot, name) ?? summary(cold, name)
    if (h === undefined) return []
    const c = summary(cold, name)
    const p = summary(paced, name)
    const problems = [h, c, p].flatMap((s) => s?.problems ?? [])
    const checked = [h, c, p].reduce((n, s) => n + (s?.checked ?? 0), 0)
    const hotCell = summary(hot, name) ? `${f(h.rps)} (${ms(h.p50Us)} / ${ms(h.p99Us)})` : '—'
    return [
      `| ${LABELS[name]} | ${hotCell} | ${c ? `${f(c.rps)} (${ms(c.p50Us)} / ${ms(c.p99Us)})` : '—'} | ${p ? `${f(p.p50Us)} / ${f(p.p99Us)}${p.late ? ` (${p.late} sent late)` : ''}` : '—'} | ${f(h.cpu.authz, 1)} / ${f(h.cpu.envoy, 1)} / ${f(h.cpu.wrk, 1)} | ${f(h.cpuUsPerRequest)} | ${h.rssMb.authz ? f(h.rssMb.authz) : '—'} / ${f(h.rssMb.envoy)} | ${checked} | ${problems.length === 0 ? '0' : `❌ ${problems.join('; ')}`} |`,
    ]
  })
  return [
    '| set-up | hot req/s (p50 / p99 ms) | cold req/s (p50 / p99 ms) | paced p50 / p99 µs | CPU s per run: authorizer / Envoy / wrk | CPU µs per request (authorizer + Envoy) | peak RSS MiB: authorizer / Envoy | upstream views checked | failures |',
    '|---|---|---|---|---|---|---|---|---|',
    ...lines,
    '',
    'CPU and RSS columns: the hot row (the cold row for the set-up that runs only there).',
  ]
}

interface Target {
  readonly what: string
  readonly value: string
  readonly met?: boolean
}

type Rows = Readonly<Record<'hot' | 'cold' | 'paced' | 'light', RowResult | undefined>>

/** The issue's ratio targets: row, us, them, at least (≥) or at most (≤), the line. */
const RATIO_TARGETS: readonly [keyof Rows, SetUpName, SetUpName, '≥' | '≤', number, string][] = [
  ['hot', 'ours', 'opa', '≥', 1, 'hot req/s, us (as shipped) / OPA-Envoy'],
  ['hot', 'ours-sampled', 'opa', '≥', 1, 'hot req/s, us (decisions sampled) / OPA-Envoy'],
  ['cold', 'ours-cold', 'opa', '≥', 1, 'cold req/s, us / OPA-Envoy'],
  ['paced', 'ours', 'opa', '≤', 1, 'paced p99, us (as shipped) / OPA-Envoy'],
  ['paced', 'ours-sampled', 'opa', '≤', 1, 'paced p99, us (decisions sampled) / OPA-Envoy'],
  ['hot', 'ours', 'baseline', '≥', 0.95, 'hot req/s, us (as shipped) / fixed-allow baseline'],
  ['hot', 'ours-sampled', 'baseline', '≥', 0.95, 'hot req/s, us (decisions sampled) / baseline'],
  ['paced', 'ours', 'baseline', '≤', 1.2, 'paced p99, us (as shipped) / baseline'],
  ['paced', 'ours-sampled', 'baseline', '≤', 1.2, 'paced p99, us (decisions sampled) / baseline'],
]

function ratioTargets(rows: Rows): Target[] {
  return RATIO_TARGETS.flatMap(([id, a, b, op, limit, what]) => {
    const x = ratio(rows[id], a, b)
    if (x === undefined) return []
    const met = op === '≥' ? x.median >= limit : x.median <= limit
    return [{ what: `${what} ${op} ${f(limit, 2)}`, value: shown(x), met }]
  })
}

/** Peak RSS, the price of the hop, the latency we add, and the cold row against jose's ceiling. */
function otherTargets(rows: Rows, jose: number): Target[] {
  const out: Target[] = []
  const [o, b] = [summary(rows.hot, 'ours'), summary(rows.hot, 'baseline')]
  if (o && b) {
    const r = o.rssMb.authz / b.rssMb.authz
    const value = `**${f(r, 2)}** (${f(o.rssMb.authz)} / ${f(b.rssMb.authz)} MiB)`
    out.push({ what: 'peak RSS under the hot load, us / baseline ≤ 1.25', value, met: r <= 1.25 })
  }
  for (const [id, ours] of [
    ['hot', 'ours'],
    ['cold', 'ours-cold'],
  ] as const) {
    const x = ratio(rows[id], ours, 'jwt_authn')
    const what = `${id} req/s, us / Envoy jwt_authn + rbac (load.lua's wrk: see the light row)`
    if (x) out.push({ what, value: shown(x) })
  }
  const [po, pe] = [summary(rows.paced, 'ours'), summary(rows.paced, 'envoy')]
  if (po && pe)
    out.push({
      what: 'latency we add over Envoy alone (set-up 1) at the paced rate',
      value: `p50 +${f(po.p50Us - pe.p50Us)} µs, p99 +${f(po.p99Us - pe.p99Us)} µs`,
    })
  // A cold Check costs us at least the baseline's Check plus one jose verify: 1/b + 1/j.
  const [cb, base] = [ratio(rows.cold, 'ours-cold', 'baseline'), summary(rows.cold, 'baseline')]
  if (cb && base)
    out.push({
      what: `cold req/s, us / baseline, against jose's ceiling j / (j + b) = ${f(jose)} / (${f(jose)} + ${f(base.rps)})`,
      value: `${shown(cb)}, ceiling **${f(jose / (jose + base.rps), 2)}**`,
    })
  return out
}

function rowsOf(res: EnvoyResults): Rows {
  const [hot, cold, paced, light] = ['hot', 'cold', 'paced', 'light'].map((id) => row(res.rows, id))
  return { hot, cold, paced, light }
}

/** The price of the hop with the lightest wrk: what each set-up reaches, and wrk's share. */
function lightTargets(rows: Rows): Target[] {
  const out: Target[] = []
  const pairs = [
    ['ours', 'jwt_authn', 'us / Envoy jwt_authn + rbac (the price of the external hop)'],
    ['ours', 'envoy', 'us / Envoy alone'],
    ['jwt_authn', 'envoy', 'Envoy jwt_authn + rbac / Envoy alone'],
  ] as const
  for (const [a, b, what] of pairs) {
    const x = ratio(rows.light, a, b)
    if (x) out.push({ what: `light wrk (light.lua), hot req/s, ${what}`, value: shown(x) })
  }
  const names = ['ours', 'jwt_authn', 'envoy'] as const
  const s = names.map((n) => summary(rows.light, n))
  if (s.every((x) => x !== undefined))
    out.push({
      what: 'light wrk: req/s, us / jwt_authn / Envoy alone (wrk CPU s per run)',
      value: s.map((x) => `${f(x!.rps)} (${f(x!.cpu.wrk, 1)})`).join(' / '),
    })
  return out
}

/** A run on a busy machine says so first: other processes' load distorts every figure. */
export function loadWarning(load: { before: number; after: number }): string[] {
  // Only the load before the run tells of other work: the bench itself keeps both cores busy,
  // so the average after it is always high.
  const worst = load.before
  if (worst < 1) return []
  return [
    `**⚠ Measured while the machine was busy with other work (1-minute load average ${f(worst, 1)} on 2 cores before it started): the authorizers competed for CPU 0 with other processes, Envoy timed Checks out. These figures show the harness works; they compare nothing. On a quiet machine (\`cat /proc/loadavg\` below 0.5): \`scripts/bench/setup.sh && npm run bench:envoy && npm run bench:soak\`.**`,
    '',
  ]
}

function section(res: EnvoyResults): string {
  const { hot, cold, paced } = rowsOf(res)
  const late = paced?.setUps.reduce((n, s) => n + s.late, 0) ?? 0
  return [
    ...loadWarning(res.loadAverage),
    `Measured ${new Date().toISOString().slice(0, 16)}Z on ${res.machine}.`,
    `1-minute load average ${f(res.loadAverage.before, 2)} before, ${f(res.loadAverage.after, 2)} after. Each pair of set-ups: ${res.repeats} × ${res.seconds} s per side (after 1 s of warm-up each), back to back, order swapped each time; ratios are the median of the pairs (lowest–highest).`,
    `Rows: ${hot?.spec.title ?? ''}; ${cold?.spec.title ?? ''}; ${paced?.spec.title ?? ''} (send slots more than 1 ms late, every connection busy: ${late}).`,
    '',
    ...setUpTable(res),
    '',
    '| target (ratios in this run) | value | |',
    '|---|---|---|',
    ...[
      ...ratioTargets(rowsOf(res)),
      ...otherTargets(rowsOf(res), res.joseVerificationsPerSecond),
      ...lightTargets(rowsOf(res)),
    ].map(
      (t) =>
        `| ${t.what} | ${t.value} | ${t.met === undefined ? 'reported' : t.met ? '✅' : '❌'} |`,
    ),
    '',
    '',
    ...latencySection(res.latency),
    '![Latency per set-up at the paced rate, and req/s flat out](benchmarks-envoy.svg)',
  ].join('\n')
}

export function writeEnvoyReport(res: EnvoyResults, record = true): void {
  const text = section(res)
  process.stdout.write(`${text}\n`)
  if (!record) return
  writeFileSync(RESULTS_FILE, `${JSON.stringify(res, null, 1)}\n`)
  const file = 'BENCHMARKS.md'
  const doc = readFileSync(file, 'utf8')
  writeFileSync(
    file,
    doc.replace(
      /<!-- envoy -->[\s\S]*<!-- \/envoy -->/,
      `<!-- envoy -->\n${text}\n<!-- /envoy -->`,
    ),
  )
}

// `node --import tsx scripts/bench/envoy/report.ts`: rewrite the section from the last results.
if (process.argv[1]?.endsWith('report.ts')) {
  writeEnvoyReport(JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as EnvoyResults)
}
