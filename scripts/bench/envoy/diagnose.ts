// BENCH_DIAGNOSE=1: per latency run, what each side did, printed to stderr (not recorded):
// read and write system calls per request of Envoy and of the authorizer (/proc/PID/io), and
// Envoy's own view of the time (cumulative p50/p99 of the authz cluster's upstream_rq_time and
// of the listener's downstream_rq_time, ms) with its authz retries. It told where a slow
// request's time went: inside the Check call (upstream_rq_time p99 ≈ downstream p99) and not
// in more wake-ups of Envoy (BENCHMARKS.md, "Why our Checks waited").
import { readFileSync } from 'node:fs'
import type { SetUp } from './setups.js'

const ON = process.env.BENCH_DIAGNOSE === '1'

interface Io {
  readonly reads: number
  readonly writes: number
}

/** A process's read and write syscalls so far; zeros once it is gone (a diagnosis never ends a run). */
function ioOf(pid: number | undefined): Io {
  let io = ''
  try {
    if (pid !== undefined) io = readFileSync(`/proc/${pid}/io`, 'utf8')
  } catch {
    // the process exited: nothing to count
  }
  const count = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(io)?.[1] ?? 0)
  return { reads: count('syscr'), writes: count('syscw') }
}

interface Histogram {
  readonly name: string
  readonly values: readonly { readonly cumulative?: number }[]
}
interface StatsJson {
  readonly stats: readonly {
    readonly name?: string
    readonly value?: number
    readonly histograms?: {
      readonly supported_quantiles: readonly number[]
      readonly computed_quantiles: readonly Histogram[]
    }
  }[]
}

async function envoyView(admin: string): Promise<string[]> {
  const filter =
    '(cluster.authz.upstream_rq_time|bench.downstream_rq_time|authz.upstream_rq_retry$)'
  const url = `${admin}/stats?format=json&usedonly&filter=${encodeURIComponent(filter)}`
  const json = (await (await fetch(url)).json()) as StatsJson
  return json.stats.flatMap((stat) => {
    if (stat.name !== undefined) return [`${stat.name} ${stat.value}`]
    const h = stat.histograms
    if (h === undefined) return []
    const at = (q: number, x: Histogram) => x.values[h.supported_quantiles.indexOf(q)]?.cumulative
    return h.computed_quantiles.map((x) => `${x.name} p50 ${at(50, x)} p99 ${at(99, x)} ms`)
  })
}

/** Starts counting for one run; the returned function prints what the run did. */
export function diagnose(s: SetUp, label: string): (requests: number) => Promise<void> {
  if (!ON) return async () => {}
  const envoy = ioOf(s.envoyPid)
  const authz = ioOf(s.authz?.pid)
  return async (requests) => {
    const per = (after: Io, before: Io) =>
      `${((after.reads - before.reads) / requests).toFixed(2)} reads, ` +
      `${((after.writes - before.writes) / requests).toFixed(2)} writes`
    const view = await envoyView(s.envoy.admin).catch((err: Error) => [`admin: ${err.message}`])
    process.stderr.write(
      `diagnose ${s.name} ${label}: per request Envoy ${per(ioOf(s.envoyPid), envoy)}; ` +
        `authorizer ${per(ioOf(s.authz?.pid), authz)}\n  ${view.join('\n  ')}\n`,
    )
  }
}
