// wrk through Envoy, driven by load.lua: flat out on a set of connections, or paced evenly.
// wrk runs in this process's CPU set (package.json pins the bench to CPU 1).
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

/** What load.lua prints when wrk is done. Latencies are wrk's, in microseconds. */
export interface WrkResult {
  readonly requests: number
  readonly durationUs: number
  readonly statuses: Readonly<Record<string, number>>
  /** Requests sent with x-bench-sample (to the echo upstream). */
  readonly samples: number
  /** Sampled requests answered 200 by the echo upstream (not by Envoy's direct_response). */
  readonly samplesOk: number
  /** Paced only: send slots claimed more than 1 ms late, and the latest of them. */
  readonly late: number
  readonly maxLateUs: number
  readonly errors: Readonly<Record<'connect' | 'read' | 'write' | 'status' | 'timeout', number>>
  readonly p50Us: number
  readonly p90Us: number
  readonly p99Us: number
  readonly p999Us: number
  readonly maxUs: number
  readonly meanUs: number
}

export interface Load {
  /** `sub<TAB>token` lines, cycled in order. */
  readonly tokensFile: string
  readonly seconds: number
  readonly connections: number
  /** Requests per second, evenly spaced; absent: flat out. */
  readonly rate?: number
  /** Closed loop with think time: each connection waits this long between its requests. */
  readonly thinkMs?: number
  readonly sampleEvery: number
  /** One static request, no Lua per request or response (light.lua): the cheapest wrk. */
  readonly light?: boolean
}

const SCRIPT = join(import.meta.dirname, 'load.lua')
const LIGHT = join(import.meta.dirname, 'light.lua')

/** Writes the tokens of a load as load.lua reads them. */
export function writeTokens(file: string, tokens: readonly { sub: string; token: string }[]) {
  writeFileSync(file, tokens.map((t) => `${t.sub}\t${t.token}\n`).join(''))
}

export async function wrk(base: string, load: Load): Promise<WrkResult> {
  const script = load.light ? LIGHT : SCRIPT
  const { stdout } = await promisify(execFile)(
    'wrk',
    ['-t1', `-c${load.connections}`, `-d${load.seconds}s`, '--timeout', '2s', '-s', script, base],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        BENCH_TOKENS: load.tokensFile,
        BENCH_RATE: String(load.rate ?? 0),
        BENCH_THINK_MS: String(load.thinkMs ?? 0),
        BENCH_SAMPLE_EVERY: String(load.sampleEvery),
      },
    },
  )
  const line = stdout.trim().split('\n').at(-1) ?? ''
  return JSON.parse(line) as WrkResult
}

/** Everything wrong with a run: a status other than 200, a socket error, a timeout. */
export function failures(r: WrkResult): string[] {
  const wrong = Object.entries(r.statuses)
    .filter(([code, n]) => code !== '200' && n > 0)
    .map(([code, n]) => `${n} × HTTP ${code}`)
  const errors = Object.entries(r.errors)
    .filter(([kind, n]) => n > 0 && kind !== 'status')
    .map(([kind, n]) => `${n} ${kind} errors`)
  const answered = Object.values(r.statuses).reduce((a, b) => a + b, 0)
  if (answered < r.requests) errors.push(`${r.requests - answered} requests without a status`)
  if (r.requests === 0) errors.push('no request completed')
  return [...wrong, ...errors]
}
