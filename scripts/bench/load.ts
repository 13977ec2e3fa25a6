import { execFileSync } from 'node:child_process'
import { connect, constants } from 'node:http2'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadAuthorizationService } from '../../src/proto/load.js'
import type { CheckResponse } from '../../src/proto/types.js'

export interface LoadResult {
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly requests: number
  readonly failed: number
}

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check'

/** Decodes the CheckResponse (after the 5-byte gRPC frame header) and compares the decision. */
function decidedAs(frame: Buffer, allow: boolean): boolean {
  if (frame.length < 5) return false
  const res = loadAuthorizationService().Check!.responseDeserialize(frame.subarray(5)) as CheckResponse
  return (res.status?.code === 0) === allow
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0
}

/**
 * h2load against `port` with one gRPC-framed body, pinned to `cpu`. Latencies come from
 * h2load's per-request log (its summary has no percentiles). `rate` limits requests/s per
 * connection (for latency at a given load); without it h2load runs flat out.
 */
export function h2load(port: number, body: Buffer, cpu: string, o: { seconds: number; connections: number; streams: number; rate?: number }): LoadResult {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'))
  writeFileSync(join(dir, 'body'), body)
  const args = ['-c', cpu, 'h2load', '-D', String(o.seconds), '--warm-up-time=1', '-c', String(o.connections), '-m', String(o.streams),
    '-d', join(dir, 'body'), '-H', 'content-type: application/grpc', '-H', 'te: trailers', `--log-file=${join(dir, 'log')}`]
  if (o.rate !== undefined) args.push(`--rps=${o.rate}`)
  const out = execFileSync('taskset', [...args, `http://127.0.0.1:${port}${CHECK_PATH}`], { encoding: 'utf8', maxBuffer: 16 << 20 })
  const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0)
  const succeeded = Number(/requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/.exec(out)?.[1] ?? 0)
  const total = Number(/requests: (\d+) total/.exec(out)?.[1] ?? 0)
  const latencies = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n').map((l) => Number(l.split('\t')[2]) / 1000).sort((a, b) => a - b)
  return { rps, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), requests: total, failed: total - succeeded }
}

/**
 * A raw HTTP/2 gRPC client cycling through many bodies (h2load repeats one), checking every
 * answer's grpc-status trailer and that the decision is `expectAllow`. Runs in this process.
 */
export async function cycleLoad(port: number, bodies: readonly Buffer[], expectAllow: boolean, o: { seconds: number; connections: number; streams: number }): Promise<LoadResult> {
  const sessions = Array.from({ length: o.connections }, () => connect(`http://127.0.0.1:${port}`))
  const latencies: number[] = []
  let next = 0
  let failed = 0
  const warmupEnd = Date.now() + 1000
  const end = warmupEnd + o.seconds * 1000
  const one = (session: ReturnType<typeof connect>) =>
    new Promise<void>((resolve) => {
      const started = process.hrtime.bigint()
      const stream = session.request({ [constants.HTTP2_HEADER_METHOD]: 'POST', [constants.HTTP2_HEADER_PATH]: CHECK_PATH, 'content-type': 'application/grpc', te: 'trailers' })
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('trailers', (trailers) => {
        if (trailers['grpc-status'] !== '0' || !decidedAs(Buffer.concat(chunks), expectAllow)) failed++
        if (Date.now() > warmupEnd) latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
      })
      stream.on('close', () => resolve())
      stream.on('error', () => {
        failed++
        resolve()
      })
      stream.end(bodies[next++ % bodies.length])
    })
  await Promise.all(sessions.flatMap((s) => Array.from({ length: o.streams }, async () => {
    while (Date.now() < end) await one(s)
  })))
  for (const s of sessions) s.close()
  latencies.sort((a, b) => a - b)
  return { rps: latencies.length / o.seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), requests: latencies.length, failed }
}
