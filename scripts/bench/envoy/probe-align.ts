// Where an open-loop request's time went, end to end: each request vegeta sent lined up with
// the authorizer's record of its Check (probe-preload.mjs), on the wall clock. A request's
// latency splits into: sent → its Check's stream started in the authorizer (vegeta, Envoy,
// Envoy's write, the kernel, our read and HTTP/2 parse), started → respond() (our handler,
// its turn included), and respond() → the answer reached vegeta (our writes, Envoy reading
// them, its router, the response). Requests and Checks are paired in order: Envoy forwards
// Checks in the order requests reach it, which two sent within microseconds can swap; the
// split is read as distributions, not per request. The first second (warm-up) is left out.
import { readFileSync } from 'node:fs'
import { stats, type Stats } from './probe-summary.js'
import type { VegetaRequest } from './vegeta.js'

export interface Alignment {
  readonly requests: number
  readonly latency: Stats
  readonly sentToStart: Stats
  readonly startToRespond: Stats
  readonly respondToDone: Stats
  /** Requests slower than 3 ms, and the median of each part among them. */
  readonly slow: { readonly count: number; readonly parts: readonly [number, number, number] }
}

/** The preload's streams (start, respond) on the wall clock, in start order. */
function checksOf(preloadFile: string): { start: number; respond: number }[] {
  let offset = 0
  const start = new Map<string, number>()
  const respond = new Map<string, number>()
  for (const line of readFileSync(preloadFile, 'utf8').split('\n')) {
    const [kind, id, t, extra] = line.split(' ')
    if (kind === 'clock') offset = Number(extra) - Number(t)
    else if (kind === 'start') start.set(id!, Number(t))
    else if (kind === 'respond') respond.set(id!, Number(t))
  }
  return [...start]
    .filter(([id]) => respond.has(id))
    .map(([id, t]) => ({ start: t + offset, respond: respond.get(id)! + offset }))
    .sort((a, b) => a.start - b.start)
}

export function alignRequests(requests: readonly VegetaRequest[], preloadFile: string): Alignment {
  const sent = [...requests].sort((a, b) => a.sentUs - b.sentUs)
  const first = sent[0]?.sentUs ?? 0
  // A Check cannot start before its request was sent (1 ms of slack for the two clocks).
  const checks = checksOf(preloadFile).filter((c) => c.start >= first - 1000)
  const rows = sent
    .slice(0, checks.length)
    .map((r, i) => ({ r, c: checks[i]! }))
    .filter(({ r }) => r.sentUs - first >= 1e6)
  const part = (f: (x: (typeof rows)[number]) => number) => rows.map(f)
  const toStart = (x: (typeof rows)[number]) => x.c.start - x.r.sentUs
  const inHandler = (x: (typeof rows)[number]) => x.c.respond - x.c.start
  const after = (x: (typeof rows)[number]) => x.r.sentUs + x.r.latencyUs - x.c.respond
  const slow = rows.filter((x) => x.r.latencyUs > 3000)
  const med = (f: (x: (typeof rows)[number]) => number) => stats(slow.map(f)).p50
  return {
    requests: rows.length,
    latency: stats(part((x) => x.r.latencyUs)),
    sentToStart: stats(part(toStart)),
    startToRespond: stats(part(inHandler)),
    respondToDone: stats(part(after)),
    slow: { count: slow.length, parts: [med(toStart), med(inHandler), med(after)] },
  }
}
