// Loaded into a Node authorizer by `npm run bench:probe` (node --import): records, in
// microseconds of CLOCK_MONOTONIC (process.hrtime, ftrace's mono clock), when each HTTP/2
// stream of the Check port
// arrives ('stream' event: the handler starts), when its answer is handed to node:http2
// (respond(): the handler ends) and each garbage collection; the loop's turns are the
// kernel's epoll_pwait calls. Lines "kind id t [extra]" appended to PROBE_OUT.
import { appendFileSync } from 'node:fs'
import http2 from 'node:http2'
import { syncBuiltinESMExports } from 'node:module'
import { performance, PerformanceObserver } from 'node:perf_hooks'

// %p in PROBE_OUT stands for the process id (one file per process).
const out = process.env.PROBE_OUT.replace('%p', String(process.pid))
let lines = []
const now = () => Number(process.hrtime.bigint() / 1000n)
// performance's times count from its origin; the same instant on the monotonic clock:
const origin = now() - performance.now() * 1000
// The same instant on both clocks (µs), to line the records up with wall-clock ones (vegeta's);
// timeOrigin + now() rather than Date.now(), whose millisecond would blur the line-up.
lines.push(`clock 0 ${now()} ${Math.round((performance.timeOrigin + performance.now()) * 1000)}`)
const log = (line) => lines.push(line)
const flush = () => {
  if (lines.length === 0) return
  appendFileSync(out, lines.join('\n') + '\n')
  lines = []
}
setInterval(flush, 200).unref()
process.on('exit', flush)

new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    log(`gc ${e.detail?.kind ?? 0} ${Math.round(origin + e.startTime * 1000)} ${Math.round(e.duration * 1000)}`)
}).observe({ entryTypes: ['gc'] })

// PROBE_STALLS=1: a 5 ms timer that records every time it ran 10 ms or more late (the loop
// was held: GC, a long callback, the core taken away). Off by default: it wakes the loop.
if (process.env.PROBE_STALLS === '1') {
  let last = now()
  setInterval(() => {
    const t = now()
    if (t - last > 15_000) log(`stall 0 ${last} ${t - last}`)
    last = t
  }, 5).unref()
}

function watch(server) {
  server.prependListener('stream', (stream) => {
    // The in-process relay's streams (health) are not Envoy's Checks.
    if (stream.session?.socket?.remotePort === undefined) return
    const id = stream.id
    log(`start ${id} ${now()}`)
    const respond = stream.respond
    stream.respond = function (...args) {
      log(`respond ${id} ${now()}`)
      return respond.apply(this, args)
    }
  })
  return server
}

const createServer = http2.createServer
http2.createServer = (...args) => watch(createServer(...args))
syncBuiltinESMExports()
