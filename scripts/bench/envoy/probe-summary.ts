// What `npm run bench:probe` reports per set-up from strace's socket events (PROBE_TRACER=strace):
// the HTTP/2 frames each read and write carried, so which Checks one read brought and how
// each answer left (HEADERS, DATA and trailers, in how many writes, after how many turns).
// strace stops the process at every traced syscall: the times are inflated, the shape is not.
import type { SysEvent } from './probe-strace.js'

export interface ProbeSummary {
  readonly checks: number
  /** Checks completed per read that completed any (mean, p50, max). */
  readonly perRead: Stats
  /** Answers completed per write that completed any. */
  readonly perWrite: Stats
  /** Request's last frame read → answer's trailers written, µs. */
  readonly latency: Stats
  /** The same for the first Check of each read carrying two or more, and for the last. */
  readonly firstOfRead: Stats
  readonly lastOfRead: Stats
  /** Event-loop waits (turns) between a request read and its trailers written. */
  readonly turns: Stats
  /** Writes that carried part of one answer (HEADERS, DATA, trailers). */
  readonly writesPerAnswer: Stats
}

export interface Stats {
  readonly mean: number
  readonly p50: number
  readonly p99: number
  readonly max: number
}

export function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b)
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1)
  return { mean, p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? 0 }
}

interface Timeline {
  readonly readAt: Map<string, number>
  readonly readIndex: Map<string, number>
  readonly headersAt: Map<string, number>
  readonly doneAt: Map<string, number>
}

function timeline(events: readonly SysEvent[]): Timeline {
  const tl: Timeline = {
    readAt: new Map(),
    readIndex: new Map(),
    headersAt: new Map(),
    doneAt: new Map(),
  }
  events.forEach((e, i) => {
    const key = (id: number) => `${e.fd}:${id}`
    if (e.kind === 'in') for (const id of e.completed) tl.readAt.set(key(id), e.t)
    if (e.kind === 'in') for (const id of e.completed) tl.readIndex.set(key(id), i)
    if (e.kind !== 'out') return
    for (const id of e.started) if (!tl.headersAt.has(key(id))) tl.headersAt.set(key(id), e.t)
    for (const id of e.completed) tl.doneAt.set(key(id), e.t)
  })
  return tl
}

function perSyscall(events: readonly SysEvent[], kind: 'in' | 'out'): Stats {
  return stats(
    events.filter((e) => e.kind === kind && e.completed.length > 0).map((e) => e.completed.length),
  )
}

/** First and last answered Check of every read that carried two or more. */
function burstEnds(events: readonly SysEvent[], tl: Timeline) {
  const first: number[] = []
  const last: number[] = []
  for (const e of events) {
    if (e.kind !== 'in' || e.completed.length < 2) continue
    const lat = e.completed.flatMap((id) => {
      const done = tl.doneAt.get(`${e.fd}:${id}`)
      return done === undefined ? [] : [done - e.t]
    })
    if (lat.length < 2) continue
    first.push(Math.min(...lat))
    last.push(Math.max(...lat))
  }
  return { firstOfRead: stats(first), lastOfRead: stats(last) }
}

function writesPerAnswer(events: readonly SysEvent[]): number[] {
  const writes = new Map<string, number>()
  for (const e of events) {
    if (e.kind !== 'out') continue
    for (const id of new Set([...e.started, ...e.completed])) {
      const key = `${e.fd}:${id}`
      writes.set(key, (writes.get(key) ?? 0) + 1)
    }
  }
  return [...writes.values()]
}

function turnsBetween(events: readonly SysEvent[], pid: number, tl: Timeline): number[] {
  const waits = events.filter((e) => e.kind === 'wait' && e.pid === pid).map((e) => e.t)
  const count = (from: number, to: number) => waits.filter((t) => t > from && t < to).length
  return [...tl.readAt].flatMap(([key, at]) => {
    const done = tl.doneAt.get(key)
    return done === undefined ? [] : [count(at, done)]
  })
}

export function summarizeProbe(events: readonly SysEvent[], pid: number): ProbeSummary {
  const tl = timeline(events)
  const latency = [...tl.readAt].flatMap(([key, at]) => {
    const done = tl.doneAt.get(key)
    return done === undefined ? [] : [done - at]
  })
  return {
    checks: latency.length,
    perRead: perSyscall(events, 'in'),
    perWrite: perSyscall(events, 'out'),
    latency: stats(latency),
    ...burstEnds(events, tl),
    turns: stats(turnsBetween(events, pid, tl)),
    writesPerAnswer: stats(writesPerAnswer(events)),
  }
}
