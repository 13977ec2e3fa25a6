import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
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
  const res = loadAuthorizationService().Check!.responseDeserialize(
    frame.subarray(5),
  ) as CheckResponse
  return (res.status?.code === 0) === allow
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0
}

/**
 * h2load against `port` with one gRPC-framed body, pinned to `cpu`, flat out for `seconds`
 * after a 1 s warm-up. Latencies come from h2load's per-request log (its summary has no
 * percentiles).
 */
export function h2load(
  port: number,
  body: Buffer,
  cpu: string,
  o: { seconds: number; connections: number; streams: number },
): Promise<LoadResult> {
  return runH2load(
    port,
    body,
    cpu,
    [
      '-D',
      String(o.seconds),
      '--warm-up-time=1',
      '-c',
      String(o.connections),
      '-m',
      String(o.streams),
    ],
    o.seconds,
  )
}

/**
 * h2load at `rate` requests/s, evenly spaced, on one connection (as one Envoy worker sends its
 * Checks), from a timing script. (h2load's --rps submits in bursts every 10 ms, which measures
 * the bursts.) A request is sent when it is due even while others are in flight, up to 1,000.
 */
export function h2loadPaced(
  port: number,
  body: Buffer,
  cpu: string,
  o: { seconds: number; rate: number },
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'))
  const count = Math.floor(o.rate * o.seconds)
  const lines = Array.from(
    { length: count },
    (_, i) => `${((i * 1000) / o.rate).toFixed(3)}\t${CHECK_PATH}`,
  )
  writeFileSync(join(dir, 'script'), `${lines.join('\n')}\n`)
  return runH2load(
    port,
    body,
    cpu,
    [
      '-c',
      '1',
      '-m',
      '1000',
      `--timing-script-file=${join(dir, 'script')}`,
      '-B',
      `http://127.0.0.1:${port}`,
    ],
    o.seconds,
  )
}

async function runH2load(
  port: number,
  body: Buffer,
  cpu: string,
  load: string[],
  seconds: number,
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'))
  writeFileSync(join(dir, 'body'), body)
  const args = [
    '-c',
    cpu,
    'h2load',
    ...load,
    '-d',
    join(dir, 'body'),
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    `--log-file=${join(dir, 'log')}`,
  ]
  const scripted = load.some((a) => a.startsWith('--timing-script-file'))
  // Asynchronous, so the bench can sample the server's memory while h2load runs.
  const { stdout: out } = await promisify(execFile)(
    'taskset',
    [...args, ...(scripted ? [] : [`http://127.0.0.1:${port}${CHECK_PATH}`])],
    { encoding: 'utf8', maxBuffer: 16 << 20 },
  )
  const succeeded = Number(
    /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/.exec(out)?.[1] ?? 0,
  )
  const total = Number(/requests: (\d+) total/.exec(out)?.[1] ?? 0)
  // A timing script's run takes the script's length; its "finished in" includes connecting.
  const rps = scripted
    ? succeeded / seconds
    : Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0)
  const latencies = readFileSync(join(dir, 'log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => Number(l.split('\t')[2]) / 1000)
    .sort((a, b) => a - b)
  return {
    rps,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    requests: total,
    failed: total - succeeded,
  }
}

type Session = ReturnType<typeof connect>

/** One Check on `session`; resolves with whether it got grpc-status 0 and the expected decision. */
function sendCheck(session: Session, body: Buffer, expectAllow: boolean): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: CHECK_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    })
    const chunks: Buffer[] = []
    let ok = false
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('trailers', (trailers) => {
      ok = trailers['grpc-status'] === '0' && decidedAs(Buffer.concat(chunks), expectAllow)
    })
    stream.on('close', () => resolve(ok))
    stream.on('error', () => resolve(false))
    stream.end(body)
  })
}

function result(latencies: number[], seconds: number, failed: number): LoadResult {
  latencies.sort((a, b) => a - b)
  return {
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    requests: latencies.length,
    failed,
  }
}

/**
 * A raw HTTP/2 gRPC client cycling through many bodies (h2load repeats one), checking every
 * answer's grpc-status trailer and that the decision is `expectAllow`. Runs in this process.
 */
export async function cycleLoad(
  port: number,
  bodies: readonly Buffer[],
  expectAllow: boolean,
  o: { seconds: number; connections: number; streams: number },
): Promise<LoadResult> {
  const sessions = Array.from({ length: o.connections }, () => connect(`http://127.0.0.1:${port}`))
  const latencies: number[] = []
  let next = 0
  let failed = 0
  const warmupEnd = Date.now() + 1000
  const end = warmupEnd + o.seconds * 1000
  await Promise.all(
    sessions.flatMap((s) =>
      Array.from({ length: o.streams }, async () => {
        while (Date.now() < end) {
          const started = process.hrtime.bigint()
          if (!(await sendCheck(s, bodies[next++ % bodies.length]!, expectAllow))) failed++
          else if (Date.now() > warmupEnd)
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
        }
      }),
    ),
  )
  for (const s of sessions) s.close()
  return result(latencies, o.seconds, failed)
}
