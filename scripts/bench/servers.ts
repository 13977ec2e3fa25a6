// The servers the bench measures, each a process pinned to its CPUs, and what is read of them
// from /proc while a load runs: CPU seconds and sampled RSS.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LoadResult } from './load.js'

export interface Server {
  readonly port: number
  /** The HTTP authorization listener's port, when it was asked for (`oursHttp`). */
  readonly httpPort?: number
  readonly pid: number
  stop(): void
}

async function start(cmd: string[], cpu: string, portPattern: RegExp): Promise<Server> {
  const proc: ChildProcess = spawn('taskset', ['-c', cpu, ...cmd], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let out = ''
    const onData = (c: Buffer) => {
      out += c.toString()
      const m = portPattern.exec(out)
      if (!m) return
      // From here on the output (a decision log line per Check) is drained unread: kept and
      // searched, it cost this process (on CPU 1 with Envoy and the load) more with every line.
      proc.stdout!.off('data', onData)
      proc.stdout!.resume()
      resolve(m)
    }
    proc.stdout!.on('data', onData)
    proc.once('exit', (code) => reject(new Error(`${cmd.join(' ')} exited ${code}`)))
  })
  return {
    port: Number(match[1]),
    ...(match[2] !== undefined && { httpPort: Number(match[2]) }),
    pid: proc.pid!,
    stop: () => proc.kill('SIGTERM'),
  }
}

/**
 * The node flags a checkout's image runs it with (its Dockerfile's exec-form ENTRYPOINT): the
 * bench runs us, and a "before" checkout, as shipped. BENCH_OURS_FLAGS adds flags to this
 * checkout's, to try one against the shipped set in the same run.
 */
function shippedNodeFlags(root: string | undefined): string[] {
  const dockerfile = readFileSync(join(root ?? '.', 'Dockerfile'), 'utf8')
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)
  const argv = JSON.parse(entrypoint![1]!) as string[]
  const extra = root === undefined ? (process.env.BENCH_OURS_FLAGS ?? '') : ''
  return [...argv.slice(1, argv.indexOf('dist/src/main.js')), ...extra.split(' ').filter(Boolean)]
}

/**
 * The node binary the authorizers run on: BENCH_NODE (e.g. another major's, for the latency
 * evidence) or the one on PATH.
 */
export const NODE = process.env.BENCH_NODE ?? 'node'

export interface OursOptions {
  /** Serve the HTTP authorization listener too (its port is `httpPort`). */
  readonly httpAuthz?: boolean
  /** Another built checkout to run instead of this one (the "before" of a change). */
  readonly root?: string
}

export const ours = (config: string, workers = 1, options: OursOptions = {}) =>
  start(
    [
      NODE,
      ...shippedNodeFlags(options.root),
      join(options.root ?? '.', 'dist/src/main.js'),
      'serve',
      '--config',
      config,
      '--grpc',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--http-authz',
      options.httpAuthz ? '127.0.0.1:0' : '',
      '--workers',
      String(workers),
    ],
    workers > 1 ? '0,1' : '0',
    options.httpAuthz
      ? /Check on 127\.0\.0\.1:(\d+) \(gRPC\), on 127\.0\.0\.1:(\d+)/
      : /Check on 127\.0\.0\.1:(\d+)/,
  )
// Compiled like ours (tsconfig.bench.json): under tsx its loader thread alone added ~14 MiB RSS.
// With `answerFile`, it answers that CheckResponse (JSON) instead of an empty allow.
// `turn`: the handler answers one Check per event-loop turn (the fix tried inside grpc-js).
export const baseline = (answerFile?: string, mode: 'sync' | 'turn' = 'sync') =>
  start(
    [
      NODE,
      'dist/scripts/bench/baseline-server.js',
      '127.0.0.1:0',
      ...(answerFile === undefined ? [] : [answerFile, mode]),
    ],
    '0',
    /baseline listening (\d+)/,
  )

/**
 * The transport's floor: a fixed-allow Check server on gRPC C-core (Debian's python3-grpcio),
 * answering the protobuf bytes in `answerFile`.
 */
export const floor = (answerFile: string) =>
  start(
    ['/usr/bin/python3', 'scripts/bench/envoy/floor-server.py', '127.0.0.1:0', answerFile],
    '0',
    /floor listening (\d+)/,
  )

/** A fixed-allow Check server on bare node:http2 (h2-fixed-server.ts), `sync` or `turn`. */
export const h2Fixed = (answerFile: string, mode: 'sync' | 'turn') =>
  start(
    [NODE, 'dist/scripts/bench/h2-fixed-server.js', '127.0.0.1:0', answerFile, mode],
    '0',
    /h2 listening (\d+)/,
  )

/** The process and its children (cluster workers); pgrep exits 1 when there are none. */
function withChildren(pid: number): number[] {
  try {
    return [
      pid,
      ...execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map(Number),
    ]
  } catch {
    return [pid]
  }
}

/** CPU seconds of these processes so far (utime+stime). */
function cpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, p) => {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')
      return sum + (Number(f[11]) + Number(f[12])) / 100
    } catch {
      return sum
    }
  }, 0)
}

/** Resident memory of the largest of these processes, in MiB. */
export function rssMb(pids: readonly number[]): number {
  return pids.reduce((max, p) => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0)
      return Math.max(max, kb / 1024)
    } catch {
      return max
    }
  }, 0)
}

export interface Measured extends LoadResult {
  readonly cpu: number
  /** Peak RSS sampled every 50 ms while this load ran (per process). */
  readonly rssMb: number
}

export async function measure(server: Server, run: () => Promise<LoadResult>): Promise<Measured> {
  // Found once: spawning pgrep while the load runs would steal CPU 1 from the load generator.
  const pids = withChildren(server.pid)
  const cpuBefore = cpuSeconds(pids)
  let peak = rssMb(pids)
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pids))), 50)
  try {
    const result = await run()
    return { ...result, cpu: cpuSeconds(pids) - cpuBefore, rssMb: Math.max(peak, rssMb(pids)) }
  } finally {
    clearInterval(sampler)
  }
}
