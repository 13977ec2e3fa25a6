// The latency rows' part of BENCHMARKS.md (written by report.ts): per load model, each set-up's
// p50 and p99 and their ratios to the C-core floor of the same repeat, what the load generator
// achieved against what it was asked and the CPU it used, and the lines: ours and the
// HTTP mode each ≤ 1.5× the floor at p50 and p99.
import type { LatencyRowResult, LatencySummary, Spread } from './latency-rows.js'
import { LABELS, type SetUpName } from './setups.js'

const LIMIT = 1.5
const f = (n: number, d = 0) => n.toFixed(d)
const ms = (us: number) => f(us / 1000, 2)
const shown = (x: Spread | undefined) =>
  x === undefined ? '—' : `**${f(x.median, 2)}** (${f(x.low, 2)}–${f(x.high, 2)})`

function rate(s: LatencySummary, r: LatencyRowResult): string {
  const m = r.spec.model
  if (m.kind === 'closed') return f(s.rps)
  return `${f(s.rps)} / ${f(s.sentRate ?? 0)} / ${m.rate}`
}

function setUpLine(s: LatencySummary, r: LatencyRowResult): string {
  const c = s.cpuShare
  const cells = [
    LABELS[s.setUp],
    `${ms(s.p50Us)} / ${ms(s.p99Us)}`,
    shown(s.vsFloor?.p50),
    shown(s.vsFloor?.p99),
    rate(s, r),
    `${f(c.load, 2)} / ${f(c.authz, 2)} / ${f(c.envoy, 2)}`,
    s.problems.length === 0 ? '0' : `❌ ${s.problems.join('; ')}`,
  ]
  return `| ${cells.join(' | ')} |`
}

function rowTable(r: LatencyRowResult): string[] {
  const rateHead =
    r.spec.model.kind === 'closed' ? 'answered req/s' : 'req/s answered / sent / asked'
  return [
    `**${r.spec.title}**; ${r.runs.length / r.setUps.length} runs of ${r.runs[0]?.seconds ?? 0} s per set-up, interleaved`,
    '',
    `| set-up | p50 / p99 ms | p50 / floor | p99 / floor | ${rateHead} | CPU s per s: load generator / authorizer / Envoy | failures |`,
    '|---|---|---|---|---|---|---|',
    ...r.setUps.map((s) => setUpLine(s, r)),
    '',
    cpuOneLine(r),
    '',
  ]
}

/**
 * CPU 1 carries the load generator and Envoy (and this bench): near one CPU second per second,
 * the row's tail is that core's queue, whatever the authorizer on CPU 0 does.
 */
function cpuOneLine(r: LatencyRowResult): string {
  const busy = r.runs.map((x) => (x.cpu.load + x.cpu.envoy) / x.seconds)
  const lo = Math.min(...busy)
  const hi = Math.max(...busy)
  return `CPU 1 (the load generator and Envoy, which share it) was busy ${f(lo, 2)}–${f(hi, 2)} CPU s per second across this row's runs.`
}

interface Target {
  readonly what: string
  readonly value: string
  /** Undefined: not judged, the floor itself did not carry the row's load on this host. */
  readonly met?: boolean
}

/** The issue's line is for us, over gRPC and over HTTP; the other rows' ratios are in the tables. */
const JUDGED: readonly SetUpName[] = ['ours', 'ours-http']
/** An open-loop row is judged only where the floor answered this share of the asked rate. */
const FLOOR_CARRIED = 0.95

/**
 * Why a row cannot be judged, if it cannot: when the floor failed requests or fell behind the
 * asked rate, every set-up's latency there is CPU 1's queue (Envoy and the load generator), and
 * a ratio of two such figures says nothing about the authorizers.
 */
function floorShortfall(r: LatencyRowResult): string | undefined {
  const floor = r.setUps.find((x) => x.setUp === 'floor')
  if (floor === undefined) return undefined
  const m = r.spec.model
  const short = m.kind === 'open' && floor.rps < m.rate * FLOOR_CARRIED
  if (!short && floor.problems.length === 0) return undefined
  const rate = m.kind === 'open' ? ` answered ${f(floor.rps)} of ${m.rate} req/s and` : ''
  return `not judged: the floor itself${rate} had ${floor.problems.length === 0 ? 'no failures' : 'failures'} (see CPU 1 above)`
}

function targets(rows: readonly LatencyRowResult[]): Target[] {
  return JUDGED.flatMap((name) =>
    rows.flatMap((r) => {
      const s = r.setUps.find((x) => x.setUp === name)
      if (s?.vsFloor === undefined) return []
      const shortfall = floorShortfall(r)
      return (['p50', 'p99'] as const).map((p) => {
        const x = s.vsFloor![p]
        const what = `${r.spec.id}: ${p}, ${LABELS[name].replace(/^\S+ /, '')} / floor ≤ ${LIMIT}`
        if (shortfall !== undefined) return { what, value: `${shown(x)}, ${shortfall}` }
        // A failed request is never within the line, however fast the others were.
        return { what, value: shown(x), met: x.median <= LIMIT && s.problems.length === 0 }
      })
    }),
  )
}

/** Whether the load generator kept up: every open-loop run sent ≥ 99% of what it was asked. */
function generatorLine(rows: readonly LatencyRowResult[]): string {
  const open = rows.flatMap((r) => r.runs.filter((x) => x.askedRate !== undefined))
  const sentShare = Math.min(...open.map((x) => (x.sentRate ?? 0) / x.askedRate!))
  const cpu = Math.max(...rows.flatMap((r) => r.runs.map((x) => x.cpu.load / x.seconds)))
  return `Load generator: every open-loop run sent at least ${f(sentShare * 100, 1)}% of the asked rate (vegeta starts each request on its schedule, with a new worker when every one is waiting, and measures from that start, a wait for one of its 64 connections included), and no run's generator used more than ${f(cpu, 2)} CPU s per second of its core.`
}

export function latencySection(rows: readonly LatencyRowResult[]): string[] {
  if (rows.length === 0) return []
  const mark = (t: Target) => (t.met === undefined ? '⚠ not judged' : t.met ? '✅' : '❌')
  const lines = targets(rows).map((t) => `| ${t.what} | ${t.value} | ${mark(t)} |`)
  return [
    '### Latency at the loads users run: closed loop with think time, open loop at a constant rate',
    '',
    ...rows.flatMap(rowTable),
    generatorLine(rows),
    '',
    '| latency target (median of the per-repeat ratios, lowest–highest) | value | |',
    '|---|---|---|',
    ...lines,
    '',
  ]
}
