// What `npm run bench:probe` reports per set-up from the kernel's syscall record (ftrace, the
// default) and, for Node authorizers, the preload's stream and GC records on the same clock:
// when Envoy's segments were read, how many Checks each brought, when each Check's handler ran
// and answered, when its answer was written (HEADERS and DATA in one write, node:http2's
// trailers in the next), how many loop turns that took, and the garbage collections meanwhile.
import { readFileSync } from 'node:fs'
import type { KernelEvent } from './probe-ftrace.js'
import { stats, type Stats } from './probe-summary.js'

export interface KernelSummary {
  /** Reads of Envoy's connection per second, and bytes per read. */
  readonly readsPerSecond: number
  readonly bytesPerRead: number
  /** Writes to it per read. */
  readonly writesPerRead: number
  /** A read → the next write (the first answer leaving), µs. */
  readonly readToWrite: Stats
  readonly node?: NodeSplit
}

/** µs, per Check, from the read that brought it. */
export interface NodeSplit {
  readonly checks: number
  readonly checksPerRead: Stats
  /** Handler started ('stream' event) and ended (respond()), after the read. */
  readonly handlerStart: Stats
  readonly handlerEnd: Stats
  /** The first write after respond() (HEADERS + DATA), the one after it (trailers). */
  readonly written: Stats
  readonly trailersWritten: Stats
  /** The read's first and last Check: trailers written, after the read. */
  readonly firstOfRead: Stats
  readonly lastOfRead: Stats
  /** Event-loop turns (epoll waits) from the read to the trailers' write. */
  readonly turns: Stats
  readonly gc: { readonly count: number; readonly totalMs: number; readonly maxMs: number }
}

/** The socket with the most bytes read: Envoy's connection. */
function envoyFd(events: readonly KernelEvent[]): number {
  const bytes = new Map<number, number>()
  for (const e of events)
    if (e.kind === 'in' && e.ret > 0) bytes.set(e.fd, (bytes.get(e.fd) ?? 0) + e.ret)
  return [...bytes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? -1
}

/** Index of the first value > t in sorted `times` (binary search). */
function after(times: readonly number[], t: number): number {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (times[mid]! > t) hi = mid
    else lo = mid + 1
  }
  return lo
}

function preload(file: string, from: number, to: number) {
  const start = new Map<number, number>()
  const respond = new Map<number, number>()
  const gc: number[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, id, t, extra] = line.split(' ')
    const at = Number(t)
    if (!(at >= from && at <= to)) continue
    if (kind === 'start') start.set(Number(id), at)
    else if (kind === 'respond') respond.set(Number(id), at)
    else if (kind === 'gc') gc.push(Number(extra) / 1000)
  }
  return { start, respond, gc }
}

interface Series {
  readonly reads: readonly number[]
  readonly writes: readonly number[]
  readonly waits: readonly number[]
}

function nodeSplit(s: Series, file: string): NodeSplit | undefined {
  const from = s.reads[0] ?? 0
  const rec = preload(file, from, s.writes.at(-1) ?? 0)
  const rows: { read: number; start: number; end: number; w1: number; w2: number }[] = []
  for (const [id, start] of rec.start) {
    const end = rec.respond.get(id)
    const r = after(s.reads, start) - 1
    const w = end === undefined ? -1 : after(s.writes, end)
    if (end === undefined || r < 0 || w + 1 >= s.writes.length) continue
    rows.push({ read: s.reads[r]!, start, end, w1: s.writes[w]!, w2: s.writes[w + 1]! })
  }
  if (rows.length === 0) return undefined
  const byRead = new Map<number, typeof rows>()
  for (const x of rows) byRead.set(x.read, [...(byRead.get(x.read) ?? []), x])
  const ends = [...byRead.values()].filter((g) => g.length > 1)
  const since = (f: (x: (typeof rows)[number]) => number) => stats(rows.map((x) => f(x) - x.read))
  return {
    checks: rows.length,
    checksPerRead: stats([...byRead.values()].map((g) => g.length)),
    handlerStart: since((x) => x.start),
    handlerEnd: since((x) => x.end),
    written: since((x) => x.w1),
    trailersWritten: since((x) => x.w2),
    firstOfRead: stats(ends.map((g) => Math.min(...g.map((x) => x.w2)) - g[0]!.read)),
    lastOfRead: stats(ends.map((g) => Math.max(...g.map((x) => x.w2)) - g[0]!.read)),
    turns: stats(rows.map((x) => after(s.waits, x.w2) - after(s.waits, x.read))),
    gc: {
      count: rec.gc.length,
      totalMs: rec.gc.reduce((a, b) => a + b, 0),
      maxMs: Math.max(0, ...rec.gc),
    },
  }
}

export function summarizeKernel(
  events: readonly KernelEvent[],
  mainTid: number,
  preloadFile?: string,
): KernelSummary {
  const fd = envoyFd(events)
  const on = (kind: KernelEvent['kind']) =>
    events.filter((e) => e.kind === kind && e.fd === fd && e.ret > 0)
  const reads = on('in')
  const writes = on('out').map((e) => e.t)
  const waits = events.filter((e) => e.kind === 'wait' && e.tid === mainTid).map((e) => e.t)
  const seconds = ((events.at(-1)?.t ?? 0) - (events[0]?.t ?? 0)) / 1e6
  const readToWrite = reads.flatMap((r) => {
    const w = writes[after(writes, r.t)]
    return w === undefined ? [] : [w - r.t]
  })
  const series = { reads: reads.map((r) => r.t), writes, waits }
  const node = preloadFile === undefined ? undefined : nodeSplit(series, preloadFile)
  return {
    readsPerSecond: reads.length / (seconds || 1),
    bytesPerRead: reads.reduce((n, r) => n + r.ret, 0) / (reads.length || 1),
    writesPerRead: writes.length / (reads.length || 1),
    readToWrite: stats(readToWrite),
    ...(node && { node }),
  }
}
