// A row of `npm run bench:envoy`: one load, and the pairs of set-ups it compares. Each pair
// runs back to back `repeats` times, the order swapped every time (a, b, then b, a), so a slow
// spell of this shared machine hits both sides of a pair; a pair's ratio is the median of its
// repeats' ratios, shown with the lowest and highest. Per set-up figures are medians of all
// its runs in the row, and its peak RSS the highest seen in any.
import { measureRun, type Run, type RunContext } from './measure.js'
import type { SetUp, SetUpName } from './setups.js'
import type { Load } from './wrk.js'

export interface RowSpec {
  readonly id: string
  readonly title: string
  readonly load: Load
  readonly pairs: readonly (readonly [SetUpName, SetUpName])[]
  /** Flat out: a/b of req/s; paced (same rate for both): a/b of p99 latency. */
  readonly compare: 'rps' | 'p99'
}

export interface Ratio {
  readonly a: SetUpName
  readonly b: SetUpName
  readonly median: number
  readonly low: number
  readonly high: number
}

export interface SetUpSummary {
  readonly setUp: SetUpName
  readonly runs: number
  readonly rps: number
  readonly p50Us: number
  readonly p90Us: number
  readonly p99Us: number
  readonly p999Us: number
  readonly cpu: { readonly authz: number; readonly envoy: number; readonly wrk: number }
  /** CPU of authorizer and Envoy together per request, in microseconds. */
  readonly cpuUsPerRequest: number
  readonly rssMb: { readonly authz: number; readonly envoy: number }
  readonly checked: number
  readonly late: number
  readonly problems: readonly string[]
}

export interface RowResult {
  readonly spec: RowSpec
  readonly ratios: readonly Ratio[]
  readonly setUps: readonly SetUpSummary[]
  readonly runs: readonly Run[]
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((x, y) => x - y)
  const m = Math.floor(s.length / 2)
  return s.length === 0 ? 0 : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

function summarize(setUp: SetUpName, runs: readonly Run[]): SetUpSummary {
  const med = (f: (r: Run) => number) => median(runs.map(f))
  const requests = runs.reduce((n, r) => n + r.wrk.requests, 0)
  const busy = runs.reduce((n, r) => n + r.cpu.authz + r.cpu.envoy, 0)
  return {
    setUp,
    runs: runs.length,
    rps: med((r) => r.rps),
    p50Us: med((r) => r.wrk.p50Us),
    p90Us: med((r) => r.wrk.p90Us),
    p99Us: med((r) => r.wrk.p99Us),
    p999Us: med((r) => r.wrk.p999Us),
    cpu: {
      authz: med((r) => r.cpu.authz),
      envoy: med((r) => r.cpu.envoy),
      wrk: med((r) => r.cpu.wrk),
    },
    cpuUsPerRequest: requests === 0 ? 0 : (busy / requests) * 1e6,
    rssMb: {
      authz: Math.max(...runs.map((r) => r.rssMb.authz)),
      envoy: Math.max(...runs.map((r) => r.rssMb.envoy)),
    },
    checked: runs.reduce((n, r) => n + r.checked, 0),
    late: runs.reduce((n, r) => n + r.wrk.late, 0),
    problems: [...new Set(runs.flatMap((r) => r.problems))],
  }
}

export async function runRow(
  spec: RowSpec,
  setUps: ReadonlyMap<SetUpName, SetUp>,
  ctx: RunContext,
  repeats: number,
  progress: (line: string) => void,
): Promise<RowResult> {
  const runs: Run[] = []
  const ratios: Ratio[] = []
  const metric = (r: Run) => (spec.compare === 'rps' ? r.rps : r.wrk.p99Us)
  for (const [a, b] of spec.pairs) {
    const values: number[] = []
    for (let i = 0; i < repeats; i++) {
      const order = i % 2 === 0 ? [a, b] : [b, a]
      const pair = new Map<SetUpName, Run>()
      for (const name of order) {
        const run = await measureRun(setUps.get(name)!, spec.load, ctx)
        progress(
          `${spec.id} ${name}: ${run.rps.toFixed(0)} req/s, p50 ${run.wrk.p50Us} µs, p99 ${run.wrk.p99Us} µs${run.problems.length ? ` PROBLEMS: ${run.problems.join('; ')}` : ''}`,
        )
        pair.set(name, run)
        runs.push(run)
      }
      values.push(metric(pair.get(a)!) / metric(pair.get(b)!))
    }
    ratios.push({
      a,
      b,
      median: median(values),
      low: Math.min(...values),
      high: Math.max(...values),
    })
  }
  const names = [...new Set(spec.pairs.flat())]
  const setUpSummaries = names.map((n) =>
    summarize(
      n,
      runs.filter((r) => r.setUp === n),
    ),
  )
  return { spec, ratios, setUps: setUpSummaries, runs }
}
