// The latency rows of `npm run bench:envoy`, run interleaved: for each repeat, every load
// model in turn, and within it every set-up in turn (the order rotated each repeat), so a slow
// spell of the machine spreads over all of them. A set-up's figure is the median of its runs;
// a ratio to the floor is the median of the per-repeat ratios (lowest–highest).
import { median } from './rows.js'
import { measureLatency, type LatencyModel, type LatencyRun } from './latency.js'
import type { SetUp, SetUpName } from './setups.js'

export interface LatencyRowSpec {
  readonly id: string
  readonly title: string
  readonly model: LatencyModel
}

const ALL_ROWS: readonly LatencyRowSpec[] = [
  {
    id: 'closed',
    title: 'closed loop with think time: 20 connections, each waiting 20 ms between requests',
    model: { kind: 'closed', connections: 20, thinkMs: 20 },
  },
  { id: 'open1k', title: 'open loop, 1,000 req/s', model: { kind: 'open', rate: 1000 } },
  { id: 'open3k', title: 'open loop, 3,000 req/s', model: { kind: 'open', rate: 3000 } },
]

/** BENCH_LATENCY_MODELS=closed,open1k,open3k (all by default) runs those only, while iterating. */
const MODELS = process.env.BENCH_LATENCY_MODELS?.split(',')
export const LATENCY_ROWS = ALL_ROWS.filter((r) => MODELS === undefined || MODELS.includes(r.id))

export interface LatencySummary {
  readonly setUp: SetUpName
  readonly p50Us: number
  readonly p99Us: number
  readonly rps: number
  readonly sentRate?: number
  /** Medians of the runs' CPU seconds per second of load. */
  readonly cpuShare: { readonly load: number; readonly authz: number; readonly envoy: number }
  /** Ratios to the floor's run of the same repeat: median (lowest–highest). */
  readonly vsFloor?: { readonly p50: Spread; readonly p99: Spread }
  readonly problems: readonly string[]
}

export interface Spread {
  readonly median: number
  readonly low: number
  readonly high: number
}

export interface LatencyRowResult {
  readonly spec: LatencyRowSpec
  readonly setUps: readonly LatencySummary[]
  readonly runs: readonly LatencyRun[]
}

function spread(values: readonly number[]): Spread {
  return { median: median(values), low: Math.min(...values), high: Math.max(...values) }
}

function summarize(name: SetUpName, runs: readonly LatencyRun[], floor?: SetUpName) {
  const mine = runs.filter((r) => r.setUp === name)
  const med = (f: (r: LatencyRun) => number) => median(mine.map(f))
  const ratios = (key: 'p50Us' | 'p99Us') =>
    mine.flatMap((r, i) => {
      const f = runs.filter((x) => x.setUp === floor)[i]
      return f === undefined || f[key] === 0 ? [] : [r[key] / f[key]]
    })
  const sent = mine.map((r) => r.sentRate).filter((x) => x !== undefined)
  const summary: LatencySummary = {
    setUp: name,
    p50Us: med((r) => r.p50Us),
    p99Us: med((r) => r.p99Us),
    rps: med((r) => r.rps),
    ...(sent.length > 0 && { sentRate: median(sent) }),
    cpuShare: {
      load: med((r) => r.cpu.load / r.seconds),
      authz: med((r) => r.cpu.authz / r.seconds),
      envoy: med((r) => r.cpu.envoy / r.seconds),
    },
    ...(floor !== undefined &&
      name !== floor && {
        vsFloor: { p50: spread(ratios('p50Us')), p99: spread(ratios('p99Us')) },
      }),
    problems: [...new Set(mine.flatMap((r) => r.problems))],
  }
  return summary
}

export async function runLatencyRows(
  setUps: ReadonlyMap<SetUpName, SetUp>,
  load: { readonly tokensFile: string; readonly token: string; readonly seconds: number },
  repeats: number,
  progress: (line: string) => void,
  floor: SetUpName | undefined = setUps.has('floor') ? 'floor' : undefined,
): Promise<LatencyRowResult[]> {
  const names = [...setUps.keys()]
  const runs = new Map<string, LatencyRun[]>(LATENCY_ROWS.map((r) => [r.id, []]))
  for (let i = 0; i < repeats; i++) {
    const order = [...names.slice(i % names.length), ...names.slice(0, i % names.length)]
    for (const row of LATENCY_ROWS) {
      for (const name of order) {
        const run = await measureLatency(setUps.get(name)!, row.model, load)
        runs.get(row.id)!.push(run)
        progress(
          `${row.id} ${name}: ${run.rps.toFixed(0)} req/s, p50 ${run.p50Us} µs, p99 ${run.p99Us} µs, CPU load/authz/envoy ${run.cpu.load.toFixed(1)}/${run.cpu.authz.toFixed(1)}/${run.cpu.envoy.toFixed(1)} s${run.problems.length ? ` PROBLEMS: ${run.problems.join('; ')}` : ''}`,
        )
      }
    }
  }
  return LATENCY_ROWS.map((spec) => {
    const rowRuns = runs.get(spec.id)!
    return { spec, setUps: names.map((n) => summarize(n, rowRuns, floor)), runs: rowRuns }
  })
}
