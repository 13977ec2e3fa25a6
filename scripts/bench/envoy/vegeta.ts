// vegeta through Envoy: open loop at a constant rate (a request leaves every 1/rate seconds
// whatever the latency, so a slow answer cannot hold the next request back: no coordinated
// omission). Runs in this process's CPU set (CPU 1), as wrk does. The same POST as load.lua,
// one token. Installed by scripts/bench/setup.sh (go install ...vegeta/v12@v12.13.0).
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'

export interface VegetaResult {
  readonly asked: number
  /** Requests per second sent (vegeta's "rate") and answered (its "throughput"). */
  readonly sentRate: number
  readonly throughput: number
  readonly requests: number
  readonly statuses: Readonly<Record<string, number>>
  readonly errors: readonly string[]
  readonly p50Us: number
  readonly p90Us: number
  readonly p99Us: number
  readonly maxUs: number
}

const BODY = '{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"Say hi"}]}'

/** vegeta from .bench-bin (scripts/bench/setup.sh), else where `go install` puts it, else PATH. */
export function vegetaBin(): string {
  const candidates = [
    resolve('.bench-bin/vegeta'),
    join(process.env.GOPATH ?? join(homedir(), 'go'), 'bin', 'vegeta'),
  ]
  return candidates.find((file) => existsSync(file)) ?? 'vegeta'
}

function targetsFile(base: string, token: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-vegeta-'))
  writeFileSync(join(dir, 'body.json'), BODY)
  const targets = [
    `POST ${base}/openai/v1/chat/completions`,
    'Host: llm-gateway.example.com',
    'Content-Type: application/json',
    'Accept: application/json',
    'User-Agent: OpenAI/Python 1.51.0',
    `Authorization: Bearer ${token}`,
    `@${join(dir, 'body.json')}`,
    '',
  ].join('\n')
  writeFileSync(join(dir, 'targets.txt'), targets)
  return join(dir, 'targets.txt')
}

interface Report {
  requests: number
  rate: number
  throughput: number
  latencies: { '50th': number; '90th': number; '99th': number; max: number }
  status_codes: Record<string, number>
  errors: string[] | null
}

/** One request as vegeta recorded it: when it was sent (µs, wall clock) and its latency (µs). */
export interface VegetaRequest {
  readonly sentUs: number
  readonly latencyUs: number
}

export async function vegeta(
  base: string,
  token: string,
  rate: number,
  seconds: number,
  /** Given, receives every request (bench:probe lines them up with the authorizer's records). */
  onRequests?: (requests: VegetaRequest[]) => void,
): Promise<VegetaResult> {
  const targets = targetsFile(base, token)
  const out = join(mkdtempSync(join(tmpdir(), 'bench-vegeta-out-')), 'results.bin')
  try {
    await runAttack(targets, rate, seconds, out)
    if (onRequests !== undefined) onRequests(await requestsOf(out))
    return await reportOf(rate, out)
  } finally {
    rmSync(dirname(targets), { recursive: true, force: true })
    rmSync(dirname(out), { recursive: true, force: true })
  }
}

async function reportOf(rate: number, out: string): Promise<VegetaResult> {
  const { stdout } = await promisify(execFile)(vegetaBin(), ['report', '-type=json', out], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  })
  const r = JSON.parse(stdout) as Report
  const us = (ns: number) => Math.round(ns / 1000)
  return {
    asked: rate,
    sentRate: r.rate,
    throughput: r.throughput,
    requests: r.requests,
    statuses: r.status_codes,
    errors: r.errors ?? [],
    p50Us: us(r.latencies['50th']),
    p90Us: us(r.latencies['90th']),
    p99Us: us(r.latencies['99th']),
    maxUs: us(r.latencies.max),
  }
}

/** vegeta's CSV: timestamp (ns since the epoch), status, latency (ns), ... */
async function requestsOf(out: string): Promise<VegetaRequest[]> {
  const { stdout } = await promisify(execFile)(vegetaBin(), ['encode', '-to', 'csv', out], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  })
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [sent, , latency] = line.split(',', 3)
      return { sentUs: Number(BigInt(sent!) / 1000n), latencyUs: Number(latency) / 1000 }
    })
}

function runAttack(targets: string, rate: number, seconds: number, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      vegetaBin(),
      [
        'attack',
        `-rate=${rate}/s`,
        `-duration=${seconds}s`,
        `-targets=${targets}`,
        '-keepalive=true',
        '-timeout=2s',
        // Connections are reused (keep-alive); the cap keeps a stalled Envoy from turning each
        // late request into a new connection, whose cost on the shared core stalls it further.
        '-max-connections=64',
        `-output=${out}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let err = ''
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
    proc.once('error', reject)
    proc.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`vegeta attack exited ${code}: ${err}`)),
    )
  })
}
