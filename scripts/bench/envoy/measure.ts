// One measured run of a set-up: a 1 s warm-up, then wrk through its Envoy while this process
// samples the authorizer's and Envoy's memory, then the CPU each used and the upstream's view.
import { readFileSync } from 'node:fs'
import type { EchoUpstream } from '../../../test/helpers/echo-upstream.js'
import { rssMb } from '../servers.js'
import type { SetUp, SetUpName } from './setups.js'
import { checkUpstream } from './upstream-view.js'
import { failures, wrk, type Load, type WrkResult } from './wrk.js'

export interface Run {
  readonly setUp: SetUpName
  readonly wrk: WrkResult
  readonly rps: number
  /** CPU seconds used during the measured run. */
  readonly cpu: { readonly authz: number; readonly envoy: number; readonly wrk: number }
  /** The highest RSS sampled (every 50 ms) during the run, in MiB. */
  readonly rssMb: { readonly authz: number; readonly envoy: number }
  /** Sampled requests whose upstream view was checked. */
  readonly checked: number
  /** Anything that makes the run wrong: a status other than 200, an error, a bad upstream view. */
  readonly problems: readonly string[]
}

/** utime + stime of a process (field 14, 15), or with `children` its waited-for children's. */
function cpuOf(pid: number | 'self', children = false): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    const [u, s] = children ? [f[13], f[14]] : [f[11], f[12]]
    return (Number(u) + Number(s)) / 100
  } catch {
    return 0
  }
}

export interface RunContext {
  readonly echo: EchoUpstream
  readonly openaiKey: string
}

export async function measureRun(s: SetUp, load: Load, ctx: RunContext): Promise<Run> {
  const warm = await wrk(s.envoy.base, { ...load, seconds: 1 })
  const warmProblems = failures(warm).map((p) => `warm-up: ${p}`)
  const from = ctx.echo.seen.length
  const authzPid = s.authz?.pid
  const before = {
    authz: authzPid === undefined ? 0 : cpuOf(authzPid),
    envoy: cpuOf(s.envoyPid),
    // wrk is a child this process waits for: its CPU lands in our children's counters.
    wrk: cpuOf('self', true),
  }
  const peak = { authz: 0, envoy: 0 }
  const sample = () => {
    if (authzPid !== undefined) peak.authz = Math.max(peak.authz, rssMb([authzPid]))
    peak.envoy = Math.max(peak.envoy, rssMb([s.envoyPid]))
  }
  sample()
  const sampler = setInterval(sample, 50)
  let result: WrkResult
  try {
    result = await wrk(s.envoy.base, load)
  } finally {
    clearInterval(sampler)
  }
  sample()
  const cpu = {
    authz: authzPid === undefined ? 0 : cpuOf(authzPid) - before.authz,
    envoy: cpuOf(s.envoyPid) - before.envoy,
    wrk: cpuOf('self', true) - before.wrk,
  }
  const view = await checkUpstream(ctx.echo, from, result.samplesOk, s.view, ctx.openaiKey)
  return {
    setUp: s.name,
    wrk: result,
    rps: result.requests / (result.durationUs / 1e6),
    cpu,
    rssMb: peak,
    checked: view.checked,
    problems: [...warmProblems, ...failures(result), ...view.problems],
  }
}
