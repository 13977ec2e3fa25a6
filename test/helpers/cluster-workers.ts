import { existsSync, readFileSync } from 'node:fs'
import type { ServeProcess } from './serve-process.js'

/** The worker pids of a `serve --workers N` primary: its children, as Linux lists them. */
export function workerPids(primary: ServeProcess): number[] {
  const pid = primary.proc.pid!
  const file = `/proc/${pid}/task/${pid}/children`
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
}

/**
 * The worker that answered the latest Check whose request id starts with `requestIdPrefix`
 * (decision log lines carry the pid): with `--concurrency 1` Envoy holds one HTTP/2
 * connection to a gRPC cluster, so that worker has it.
 */
export function workerAnsweringChecks(primary: ServeProcess, requestIdPrefix = ''): number {
  const lines = primary.stderr().trimEnd().split('\n')
  const marker = `"requestId":"${requestIdPrefix}`
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!
    if (line.includes('"msg":"check"') && line.includes(marker))
      return (JSON.parse(line) as { pid: number }).pid
  }
  throw new Error('no Check answered yet')
}
