// The results table in BENCHMARKS.md, between its <!-- results --> markers.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import type { Measured } from './servers.js'
import type { VerifierRow } from './verify.js'

export interface Row {
  readonly scenario: string
  readonly ours: Measured
  readonly base: Measured
  readonly ratio: number
  /** Lowest and highest ratio of the row's pairs of runs. */
  readonly spread: readonly [number, number]
  readonly target: string
  readonly met?: boolean
}

export interface Report {
  readonly rows: readonly Row[]
  readonly verifiers: readonly VerifierRow[]
  /** Mean µs per Check through our handler in this process. */
  readonly handler: { readonly allow: number; readonly deny: number }
  /** RSS in MiB of the first servers, started and before any load. */
  readonly startRss: { readonly ours: number; readonly base: number }
  /** The baseline's rate on the cold row: with jose's rate alone, it bounds our cold ratio. */
  readonly coldBaseRps: number
  readonly repeats: number
  readonly seconds: number
}

export function writeReport(report: Report): void {
  const { rows, verifiers, handler, startRss, coldBaseRps, repeats, seconds } = report
  const f = (n: number, d = 0) => n.toFixed(d)
  // Ours costs at least the baseline's Check plus one jose verify: 1/b + 1/j per token,
  // so the cold ratio is at most (1/b) / (1/b + 1/j) = j / (j + b).
  const jose = verifiers[0]!.perSecond
  const coldCeiling = jose / (jose + coldBaseRps)
  const lines = rows.map(
    (r) =>
      `| ${r.scenario} | ${f(r.ours.rps)} | ${f(r.base.rps)} | **${f(r.ratio, 2)}** (${f(r.spread[0], 2)}–${f(r.spread[1], 2)}) | ${f(r.ours.p50Ms, 2)} / ${f(r.ours.p99Ms, 2)} | ${f(r.base.p50Ms, 2)} / ${f(r.base.p99Ms, 2)} | ${f(r.ours.cpu, 1)} | ${f(r.ours.rssMb)} (${f(r.base.rssMb)}) | ${r.ours.failed} | ${r.target}${r.met === undefined ? '' : r.met ? ' ✅' : ' ❌'} |`,
  )
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${execFileSync('h2load', ['--version'], { encoding: 'utf8' }).trim()}`
  const table = [
    `Measured ${new Date().toISOString().slice(0, 16)}Z on ${machine}. Each row: ${repeats} runs of ${seconds}s per side,`,
    'alternating ours and the baseline; ratio: the median of the pairs (lowest–highest), req/s and latencies from that pair',
    "(for the paced row, each side's run with the median p99); server pinned to CPU 0 (both CPUs for 2 workers),",
    'load generator on CPU 1.',
    'Baseline: grpc-js on the same protos answering a fixed allow. RSS: the highest sampled (every 50 ms) during any run of the row;',
    `at start, before any load: ours ${f(startRss.ours)} MiB, baseline ${f(startRss.base)} MiB.`,
    '',
    '| scenario | ours req/s | baseline req/s | ratio | ours p50 / p99 ms | baseline p50 / p99 ms | ours CPU s | peak RSS MiB ours (baseline) | failed | target |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
    '',
    `Our Check handler in this process, no network (request decoded, answer encoded, mean of 200k): hot-token allow ${f(handler.allow, 2)} µs, bad-signature deny ${f(handler.deny, 2)} µs.`,
    '',
    'RS256 verification alone, 2048-bit key, 1,000 distinct tokens, in the bench process on CPU 1 (flat out with 64 in flight, and one at a time):',
    '',
    '| verifier | checks | verifications/s | ratio to jose | latency µs, one at a time |',
    '|---|---|---|---|---|',
    ...verifiers.map(
      (v) =>
        `| ${v.name} | ${v.checks} | ${f(v.perSecond)} | ${f(v.perSecond / verifiers[0]!.perSecond, 2)} | ${f(v.latencyUs, 1)} |`,
    ),
    '',
    `Ceiling for the cold row with jose 6: a cold Check costs at least the baseline's Check (${f(coldBaseRps)}/s on that row) plus one jose verify (${f(jose)}/s), so the ratio is at most ${f(jose)} / (${f(jose)} + ${f(coldBaseRps)}) = **${f(coldCeiling, 2)}**, whatever the rest of our code costs.`,
  ].join('\n')
  const file = 'BENCHMARKS.md'
  const doc = readFileSync(file, 'utf8')
  writeFileSync(
    file,
    doc.replace(
      /<!-- results -->[\s\S]*<!-- \/results -->/,
      `<!-- results -->\n${table}\n<!-- /results -->`,
    ),
  )
  process.stdout.write(`${table}\n`)
}
