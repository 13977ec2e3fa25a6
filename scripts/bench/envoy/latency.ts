// The latency rows of `npm run bench:envoy`: what a set-up adds at the loads users run, under
// both load models. Closed loop with think time (wrk: 20 HTTP/1.1 connections, each waiting
// 20 ms after an answer before its next request, ~900 req/s: interactive clients, agents) and
// open loop at a constant rate (vegeta, 1,000 and 3,000 req/s: requests leave on schedule
// whatever the latency). Each run also records what shows the load generator was not the
// limit: its CPU seconds, and the rate it achieved against the rate it was asked for.
import { readFileSync } from 'node:fs'
import { diagnose } from './diagnose.js'
import type { SetUp, SetUpName } from './setups.js'
import { vegeta } from './vegeta.js'
import { failures, wrk } from './wrk.js'

export type LatencyModel =
  | { readonly kind: 'closed'; readonly connections: number; readonly thinkMs: number }
  | { readonly kind: 'open'; readonly rate: number }

export interface LatencyRun {
  readonly setUp: SetUpName
  readonly model: LatencyModel
  readonly p50Us: number
  readonly p90Us: number
  readonly p99Us: number
  /** Answered per second; for open loop also what vegeta sent and was asked. */
  readonly rps: number
  readonly sentRate?: number
  readonly askedRate?: number
  /** CPU seconds in the run: the load generator's, the authorizer's and Envoy's. */
  readonly cpu: { readonly load: number; readonly authz: number; readonly envoy: number }
  readonly seconds: number
  readonly problems: readonly string[]
}

/** utime + stime (or, with `children`, its waited-for children's) of a process. */
export function cpuOf(pid: number | 'self', children = false): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    const [u, s] = children ? [f[13], f[14]] : [f[11], f[12]]
    return (Number(u) + Number(s)) / 100
  } catch {
    return 0
  }
}

function cpuNow(s: SetUp): { load: number; authz: number; envoy: number } {
  return {
    load: cpuOf('self', true),
    authz: s.authz === undefined ? 0 : cpuOf(s.authz.pid),
    envoy: cpuOf(s.envoyPid),
  }
}

interface Measured {
  readonly p50Us: number
  readonly p90Us: number
  readonly p99Us: number
  readonly rps: number
  readonly sentRate?: number
  readonly askedRate?: number
  readonly problems: readonly string[]
}

async function closedLoop(
  base: string,
  tokensFile: string,
  model: { connections: number; thinkMs: number },
  seconds: number,
): Promise<Measured> {
  const load = { tokensFile, seconds, connections: model.connections, sampleEvery: 1e9 }
  const r = await wrk(base, { ...load, thinkMs: model.thinkMs })
  return {
    p50Us: r.p50Us,
    p90Us: r.p90Us,
    p99Us: r.p99Us,
    rps: r.requests / (r.durationUs / 1e6),
    problems: failures(r),
  }
}

async function openLoop(base: string, token: string, rate: number, seconds: number) {
  const r = await vegeta(base, token, rate, seconds)
  const wrong = Object.entries(r.statuses)
    .filter(([code]) => code !== '200')
    .map(([code, n]) => `${n} × HTTP ${code}`)
  const errors = [...new Set(r.errors)].map((e) => `vegeta: ${e}`)
  return {
    p50Us: r.p50Us,
    p90Us: r.p90Us,
    p99Us: r.p99Us,
    rps: r.throughput,
    sentRate: r.sentRate,
    askedRate: rate,
    problems: [...wrong, ...errors],
  }
}

/** One latency run of a set-up (after a 1 s warm-up under the same load). */
export async function measureLatency(
  s: SetUp,
  model: LatencyModel,
  load: { readonly tokensFile: string; readonly token: string; readonly seconds: number },
): Promise<LatencyRun> {
  const run = (seconds: number): Promise<Measured> =>
    model.kind === 'closed'
      ? closedLoop(s.envoy.base, load.tokensFile, model, seconds)
      : openLoop(s.envoy.base, load.token, model.rate, seconds)
  const warm = await run(1)
  const before = cpuNow(s)
  const finish = diagnose(s, model.kind === 'open' ? `open ${model.rate}/s` : 'closed')
  const m = await run(load.seconds)
  const after = cpuNow(s)
  await finish(Math.max(1, Math.round(m.rps * load.seconds)))
  return {
    setUp: s.name,
    model,
    ...m,
    cpu: {
      load: after.load - before.load,
      authz: after.authz - before.authz,
      envoy: after.envoy - before.envoy,
    },
    seconds: load.seconds,
    problems: [...warm.problems.map((p) => `warm-up: ${p}`), ...m.problems],
  }
}
