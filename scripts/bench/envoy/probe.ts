// npm run bench:probe: where a Check's time goes inside each authorizer, through the real Envoy
// under the latency rows' loads. For each set-up in turn (PROBE_SETUPS), the load runs
// (PROBE_LOAD: closed, open1k or open3k) while the kernel records the authorizer's socket
// syscalls and event-loop waits for PROBE_SECONDS (ftrace, probe-ftrace.ts), and, for Node
// authorizers, a preload (probe-preload.mjs) records each stream's arrival and answer and
// each GC on the same clock. PROBE_TRACER=strace records the HTTP/2 frames each syscall
// carried instead (probe-strace.ts): which Checks a read brought and how each answer left,
// at the price of stopping the process at every syscall. BENCH_NODE picks the Node binary,
// as in bench:envoy. Under the open loads, each request vegeta sent is also lined up with its
// Check's record (probe-align.ts): how much of its latency was before, in and after our
// handler. Prints the tables; writes benchmarks-probe-<tracer>-<load>-node<major>.json.
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { startEchoUpstream } from '../../../test/helpers/echo-upstream.js'
import { vegeta, type VegetaRequest } from './vegeta.js'
import { alignRequests, type Alignment } from './probe-align.js'
import { NODE } from '../servers.js'
import { ftrace, threadsOf } from './probe-ftrace.js'
import { summarizeKernel, type KernelSummary } from './probe-kernel.js'
import { readStrace } from './probe-strace.js'
import { summarizeProbe, type ProbeSummary, type Stats } from './probe-summary.js'
import { FIXED, startSetUp, type SetUp, type SetUpName, type SetUpContext } from './setups.js'
import { benchKeys } from './tokens.js'
import { wrk, writeTokens } from './wrk.js'

const NAMES = (process.env.PROBE_SETUPS ?? 'ours,floor,baseline,h2-sync,h2-turn').split(',')
const LOAD = process.env.PROBE_LOAD ?? 'closed'
const WINDOW = Number(process.env.PROBE_SECONDS ?? 3)
const PRELOAD = resolve('scripts/bench/envoy/probe-preload.mjs')
const NODE_SETUPS = new Set([
  'ours',
  'ours-before',
  'baseline',
  'baseline-turn',
  'h2-sync',
  'h2-turn',
])
const dir = mkdtempSync(join(tmpdir(), 'bench-probe-'))
const log = (line: string) => process.stdout.write(`${line}\n`)

function runLoad(
  s: SetUp,
  load: { tokens: string; token: string; onRequests: (r: VegetaRequest[]) => void },
  seconds: number,
): Promise<unknown> {
  const { tokens: tokensFile, token } = load
  if (LOAD === 'closed')
    return wrk(s.envoy.base, {
      tokensFile,
      seconds,
      connections: 20,
      thinkMs: 20,
      sampleEvery: 1e9,
    })
  return vegeta(s.envoy.base, token, LOAD === 'open3k' ? 3000 : 1000, seconds, load.onRequests)
}

async function strace(pid: number, file: string): Promise<void> {
  const syscalls = 'read,readv,recvmsg,recvfrom,write,writev,sendmsg,sendto,epoll_wait,epoll_pwait'
  const args = [
    '-s',
    'INT',
    String(WINDOW),
    'strace',
    '--seccomp-bpf',
    '-f',
    '-ttt',
    '-xx',
    '-s',
    '1048576',
  ]
  await promisify(execFile)('timeout', [
    ...args,
    '-e',
    `trace=${syscalls}`,
    '-e',
    'signal=none',
    '-o',
    file,
    '-p',
    String(pid),
  ]).catch(() => {})
}

const TRACER = process.env.PROBE_TRACER ?? 'ftrace'

type Probed =
  | { readonly tracer: 'ftrace'; readonly kernel: KernelSummary; alignment?: Alignment }
  | ProbeSummary

async function probe(s: SetUp, name: string, files: { tokens: string; token: string }) {
  let requests: VegetaRequest[] = []
  const load = runLoad(s, { ...files, onRequests: (r) => (requests = r) }, WINDOW + 3)
  await new Promise((r) => setTimeout(r, 1500))
  const pid = s.authz!.pid
  let result: Probed
  if (TRACER === 'strace') {
    const straceFile = join(dir, `${name}.strace`)
    await strace(pid, straceFile)
    result = summarizeProbe(readStrace(straceFile), pid)
  } else {
    // PROBE_TRACER=none: the preload's records and the line-up alone, the least disturbance.
    const events =
      TRACER === 'none'
        ? await new Promise<[]>((r) => setTimeout(() => r([]), WINDOW * 1000))
        : await ftrace(threadsOf(pid), WINDOW)
    // The preload writes its records every 200 ms.
    await new Promise((r) => setTimeout(r, 400))
    const preload = NODE_SETUPS.has(name) ? join(dir, `${name}.preload`) : undefined
    result = { tracer: 'ftrace', kernel: summarizeKernel(events, pid, preload) }
  }
  await load
  const preload = join(dir, `${name}.preload`)
  if (requests.length > 0 && NODE_SETUPS.has(name) && 'kernel' in result)
    result.alignment = alignRequests(requests, preload)
  return result
}

async function startProbed(name: SetUpName, ctx: SetUpContext): Promise<SetUp> {
  process.env.PROBE_OUT = join(dir, `${name}.preload`)
  writeFileSync(process.env.PROBE_OUT, '')
  process.env.NODE_OPTIONS = NODE_SETUPS.has(name) ? `--import ${PRELOAD}` : ''
  try {
    return await startSetUp(name, ctx)
  } finally {
    delete process.env.NODE_OPTIONS
  }
}

const f = (x: Stats, d = 0) => `${x.p50.toFixed(d)} / ${x.p99.toFixed(d)}`

function straceRow(name: string, p: ProbeSummary): string {
  return [
    name,
    p.checks,
    `${p.perRead.mean.toFixed(1)} (max ${p.perRead.max})`,
    `${p.perWrite.mean.toFixed(1)} (max ${p.perWrite.max})`,
    p.writesPerAnswer.mean.toFixed(2),
    f(p.latency),
    `${f(p.firstOfRead)} → ${f(p.lastOfRead)}`,
    f(p.turns),
  ].join(' | ')
}

function kernelRow(name: string, k: KernelSummary): string {
  const n = k.node
  return [
    name,
    k.readsPerSecond.toFixed(0),
    k.bytesPerRead.toFixed(0),
    n ? `${n.checksPerRead.mean.toFixed(1)} (max ${n.checksPerRead.max})` : '—',
    k.writesPerRead.toFixed(2),
    f(k.readToWrite),
    n
      ? [n.handlerStart, n.handlerEnd, n.written, n.trailersWritten].map((x) => f(x)).join('; ')
      : '—',
    n ? `${f(n.firstOfRead)} → ${f(n.lastOfRead)}` : '—',
    n ? f(n.turns) : '—',
    n ? `${n.gc.count} (${n.gc.totalMs.toFixed(1)} ms, max ${n.gc.maxMs.toFixed(2)})` : '—',
  ].join(' | ')
}

const HEADS = {
  align:
    '| set-up | requests | latency | sent → Check started | started → respond() | respond() → answered | slow requests: median of the three parts |\n|---|---|---|---|---|---|---|',
  strace:
    '| set-up | Checks | Checks per read (mean) | answers per write (mean) | writes per answer | read → trailers written | first → last of a read | loop turns per Check |\n|---|---|---|---|---|---|---|---|',
  ftrace:
    '| set-up | reads/s | bytes per read | Checks per read (mean) | writes per read | read → next write | after the read: handler start; handler end (respond); HEADERS+DATA written; trailers written | first → last of a read (trailers written) | loop turns per Check | GCs |\n|---|---|---|---|---|---|---|---|---|---|',
}

function printTable(results: Record<string, Probed>, node: string): void {
  log(`\nload ${LOAD}, ${WINDOW} s traced (${TRACER}), ${node}; times µs, p50 / p99`)
  log(TRACER === 'strace' ? HEADS.strace : HEADS.ftrace)
  for (const [name, p] of Object.entries(results))
    log(`| ${'kernel' in p ? kernelRow(name, p.kernel) : straceRow(name, p)} |`)
  const aligned = Object.entries(results).flatMap(([name, p]) =>
    'alignment' in p && p.alignment ? [[name, p.alignment] as const] : [],
  )
  if (aligned.length === 0) return
  log(`\nend to end, each request lined up with its Check (µs, p50 / p99; slow: > 3 ms)`)
  log(HEADS.align)
  for (const [name, a] of aligned) log(`| ${alignRow(name, a)} |`)
}

function alignRow(name: string, a: Alignment): string {
  const [toStart, inHandler, after] = a.slow.parts
  return [
    name,
    a.requests,
    f(a.latency),
    f(a.sentToStart),
    f(a.startToRespond),
    f(a.respondToDone),
    `${a.slow.count}: ${[toStart, inHandler, after].map(Math.round).join(' / ')}`,
  ].join(' | ')
}

async function main(): Promise<void> {
  process.env.OPENAI_API_KEY = 'bench-openai-key'
  const keys = await benchKeys(10)
  const tokens = join(dir, 'hot.tsv')
  writeTokens(tokens, keys.hot)
  const echo = await startEchoUpstream()
  const base = { keys, openaiKey: 'bench-openai-key', echoPort: echo.port }
  const results: Record<string, Probed> = {}
  let answer: SetUpContext['baselineAnswer']
  for (const name of ['ours', ...NAMES.filter((n) => n !== 'ours')] as SetUpName[]) {
    const s = await startProbed(name, FIXED.has(name) ? { ...base, baselineAnswer: answer! } : base)
    answer ??= s.hotAnswer
    try {
      if (name === 'ours' && !NAMES.includes('ours')) continue
      results[name] = await probe(s, name, { tokens, token: keys.hot[0]!.token })
      log(`${name}: ${JSON.stringify(results[name])}`)
    } finally {
      await s.stop()
    }
  }
  await echo.stop()
  const node = (await promisify(execFile)(NODE, ['--version'])).stdout.trim()
  const file = `benchmarks-probe-${TRACER}-${LOAD}-node${/^v(\d+)/.exec(node)?.[1]}.json`
  writeFileSync(file, `${JSON.stringify({ node, results }, null, 1)}\n`)
  printTable(results, `Node ${node}`)
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:probe failed: ${(err as Error).stack}\n`)
    process.exit(1)
  },
)
