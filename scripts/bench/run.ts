// npm run bench: our server and a fixed-allow baseline on the same protos, measured in one
// run by the same load generators. Servers are pinned to CPU 0, load to CPU 1 (this process
// runs under `taskset -c 1`, see package.json). Results go to BENCHMARKS.md.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { createCheckClient } from '../../test/helpers/check-client.js'
import { ALICE_TOKEN } from '../../test/helpers/keys.js'
import { cycleLoad, h2load, type LoadResult } from './load.js'
import { benchRequest, grpcFrame } from './requests.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const FLAT_OUT = { seconds: SECONDS, connections: 8, streams: 16 }

interface Server {
  readonly port: number
  readonly pid: number
  stop(): void
}

async function start(cmd: string[], cpu: string, portPattern: RegExp): Promise<Server> {
  const proc: ChildProcess = spawn('taskset', ['-c', cpu, ...cmd], { stdio: ['ignore', 'pipe', 'ignore'] })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      const m = portPattern.exec(out)
      if (m) resolve(Number(m[1]))
    })
    proc.once('exit', (code) => reject(new Error(`${cmd.join(' ')} exited ${code}`)))
  })
  return { port, pid: proc.pid!, stop: () => proc.kill('SIGTERM') }
}

const ours = (config: string, workers = 1) =>
  start(['node', 'dist/src/main.js', 'serve', '--config', config, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--workers', String(workers)], workers > 1 ? '0,1' : '0', /Check on 127\.0\.0\.1:(\d+)/)
const baseline = () => start(['node', '--import', 'tsx', 'scripts/bench/baseline-server.ts'], '0', /baseline listening (\d+)/)

/** The process and its children (cluster workers); pgrep exits 1 when there are none. */
function withChildren(pid: number): number[] {
  try {
    return [pid, ...execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)]
  } catch {
    return [pid]
  }
}

/** CPU seconds of a process and its children so far (utime+stime, and children's). */
function cpuSeconds(pid: number): number {
  return withChildren(pid).reduce((sum, p) => {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')
      return sum + (Number(f[11]) + Number(f[12])) / 100
    } catch {
      return sum
    }
  }, 0)
}

/** Peak resident memory (VmHWM) of the process and its children, in MiB. */
function peakRssMb(pid: number): number {
  return withChildren(pid).reduce((max, p) => {
    try {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0)
      return Math.max(max, kb / 1024)
    } catch {
      return max
    }
  }, 0)
}

interface Measured extends LoadResult {
  readonly cpu: number
  readonly rssMb: number
}

async function measure(server: Server, run: () => Promise<LoadResult> | LoadResult): Promise<Measured> {
  const cpuBefore = cpuSeconds(server.pid)
  const result = await run()
  return { ...result, cpu: cpuSeconds(server.pid) - cpuBefore, rssMb: peakRssMb(server.pid) }
}

/** A real gRPC client confirms the decision the load generator's body gets. */
async function expectDecision(port: number, token: string, allow: boolean): Promise<void> {
  const client = createCheckClient(`127.0.0.1:${port}`)
  const res = await client.check(benchRequest(token))
  client.close()
  if ((res.status?.code === 0) !== allow) throw new Error(`expected ${allow ? 'allow' : 'deny'}, got ${res.status?.message}`)
}

async function coldSetup(): Promise<{ config: string; tokens: string[] }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256')
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-'))
  const config = join(dir, 'config.yaml')
  writeFileSync(config, `log: { level: warn }\nproviders:\n  idp:\n    issuer: https://idp.bench\n    jwks: { local: { key: ${JSON.stringify(await exportSPKI(publicKey))} } }\nroutes:\n  - name: openai\n    match: { prefix: /openai }\n`)
  const exp = Math.floor(Date.now() / 1000) + 3600
  const tokens = await Promise.all(Array.from({ length: 10_000 }, (_, i) => new SignJWT({ sub: `user-${i}` }).setProtectedHeader({ alg: 'RS256' }).setIssuer('https://idp.bench').setExpirationTime(exp).sign(privateKey)))
  return { config, tokens }
}

type Row = { scenario: string; ours: Measured; base: Measured; target: string; met: boolean }

async function main(): Promise<void> {
  const seedConfig = join(mkdtempSync(join(tmpdir(), 'bench-')), 'config.yaml')
  // The seed config as shipped, with decision lines at warn (not written): logging is measured apart.
  writeFileSync(seedConfig, readFileSync('examples/llm-gateway.yaml', 'utf8').replace('listen:', 'log: { level: warn }\nlisten:'))
  const hot = grpcFrame(benchRequest(ALICE_TOKEN))
  const forged = `${ALICE_TOKEN.slice(0, -6)}AAAAAA`
  const invalid = grpcFrame(benchRequest(forged))
  const rows: Row[] = []

  const base = await baseline()
  const one = await ours(seedConfig)
  await expectDecision(one.port, ALICE_TOKEN, true)
  await expectDecision(one.port, forged, false)
  await expectDecision(base.port, ALICE_TOKEN, true)

  const hotOurs = await measure(one, () => h2load(one.port, hot, '1', FLAT_OUT))
  const hotBase = await measure(base, () => h2load(base.port, hot, '1', FLAT_OUT))
  rows.push({ scenario: 'hot token (flat out)', ours: hotOurs, base: hotBase, target: '≥ 0.90', met: hotOurs.rps / hotBase.rps >= 0.9 })
  // Half of the baseline's maximum, paced over 16 connections of one stream each (enough
  // connections to reach the rate; no pipelined bursts queueing behind each other).
  const halfRate = Math.max(1, Math.floor(hotBase.rps / 2 / 16))
  const paced = { seconds: SECONDS, connections: 16, streams: 1, rate: halfRate }
  const halfOurs = await measure(one, () => h2load(one.port, hot, '1', paced))
  const halfBase = await measure(base, () => h2load(base.port, hot, '1', paced))
  rows.push({ scenario: `hot token at half load (${halfRate * 16} req/s asked)`, ours: halfOurs, base: halfBase, target: 'p99 ≤ 2 ms', met: halfOurs.p99Ms <= 2 })

  const invOurs = await measure(one, () => h2load(one.port, invalid, '1', FLAT_OUT))
  const invBase = await measure(base, () => h2load(base.port, invalid, '1', FLAT_OUT))
  rows.push({ scenario: 'invalid token (bad signature)', ours: invOurs, base: invBase, target: '≥ 0.80', met: invOurs.rps / invBase.rps >= 0.8 })
  one.stop()

  const cold = await coldSetup()
  const coldServer = await ours(cold.config)
  const bodies = cold.tokens.map((t) => grpcFrame(benchRequest(t)))
  await expectDecision(coldServer.port, cold.tokens[0]!, true)
  const coldOurs = await measure(coldServer, () => cycleLoad(coldServer.port, bodies, true, FLAT_OUT))
  const coldBase = await measure(base, () => cycleLoad(base.port, bodies, true, FLAT_OUT))
  rows.push({ scenario: 'cold tokens (10k distinct RS256)', ours: coldOurs, base: coldBase, target: '≥ 0.60', met: coldOurs.rps / coldBase.rps >= 0.6 })
  coldServer.stop()

  const two = await ours(seedConfig, 2)
  await new Promise((r) => setTimeout(r, 1500))
  const twoWorkers = await measure(two, () => h2load(two.port, hot, '1', { ...FLAT_OUT, connections: 16 }))
  rows.push({ scenario: '2 workers vs 1 (hot token; ratio to 1 worker)', ours: twoWorkers, base: hotOurs, target: '≥ 1.6×', met: twoWorkers.rps / hotOurs.rps >= 1.6 })
  two.stop()
  base.stop()
  writeReport(rows)
}

function writeReport(rows: readonly Row[]): void {
  const f = (n: number, d = 0) => n.toFixed(d)
  const lines = rows.map((r) =>
    `| ${r.scenario} | ${f(r.ours.rps)} | ${f(r.base.rps)} | **${f(r.ours.rps / r.base.rps, 2)}** | ${f(r.ours.p50Ms, 2)} / ${f(r.ours.p99Ms, 2)} | ${f(r.base.p50Ms, 2)} / ${f(r.base.p99Ms, 2)} | ${f(r.ours.cpu, 1)} | ${f(r.ours.rssMb)} (${f(r.base.rssMb)}) | ${r.ours.failed} | ${r.target} ${r.met ? '✅' : '❌'} |`)
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${execFileSync('h2load', ['--version'], { encoding: 'utf8' }).trim()}`
  const table = [
    `Measured ${new Date().toISOString().slice(0, 16)}Z on ${machine}. Each row: ${SECONDS}s after 1s warm-up, server pinned to CPU 0`,
    '(both CPUs for 2 workers), load generator on CPU 1. Baseline: grpc-js on the same protos answering a fixed allow.',
    '',
    '| scenario | ours req/s | baseline req/s | ratio | ours p50 / p99 ms | baseline p50 / p99 ms | ours CPU s | peak RSS MiB ours (baseline) | failed | target |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
  ].join('\n')
  const file = 'BENCHMARKS.md'
  const doc = readFileSync(file, 'utf8')
  writeFileSync(file, doc.replace(/<!-- results -->[\s\S]*<!-- \/results -->/, `<!-- results -->\n${table}\n<!-- /results -->`))
  process.stdout.write(`${table}\n`)
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`)
    process.exit(1)
  },
)
