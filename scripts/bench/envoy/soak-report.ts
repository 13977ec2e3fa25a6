// The results of `npm run bench:soak`: benchmarks-soak.json, the RSS chart benchmarks-soak.svg
// (Vega-Lite, from the samples) and the section between <!-- soak --> markers in BENCHMARKS.md.
import { readFileSync, writeFileSync } from 'node:fs'
import { parse, View } from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
import { loadWarning } from './report.js'
import type { WrkResult } from './wrk.js'

export interface SoakResults {
  readonly machine: string
  readonly loadAverage: { readonly before: number; readonly after: number }
  readonly seconds: number
  readonly coldTokens: number
  readonly wrk: WrkResult
  readonly expectedInvalidShare: number
  readonly upstream: { readonly checked: number; readonly problems: readonly string[] }
  /** MiB per minute after the first minute. */
  readonly slope: { readonly ours: number; readonly envoy: number }
  readonly series: readonly { readonly t: number; readonly ours: number; readonly envoy: number }[]
}

/** Only 200 (hot, cold) and 401 (invalid) answers, in the mixture's proportion. */
function problems(res: SoakResults): string[] {
  const out = [...res.upstream.problems]
  const total = Object.values(res.wrk.statuses).reduce((a, b) => a + b, 0)
  for (const [code, n] of Object.entries(res.wrk.statuses))
    if (code !== '200' && code !== '401') out.push(`${n} × HTTP ${code}`)
  const share = (res.wrk.statuses['401'] ?? 0) / Math.max(1, total)
  if (Math.abs(share - res.expectedInvalidShare) > 0.02)
    out.push(
      `401 for ${(share * 100).toFixed(1)}% of requests, expected ${(res.expectedInvalidShare * 100).toFixed(1)}%`,
    )
  for (const [kind, n] of Object.entries(res.wrk.errors))
    if (n > 0 && kind !== 'status') out.push(`${n} ${kind} errors`)
  return out
}

function chart(res: SoakResults): TopLevelSpec {
  const values = res.series.flatMap((p) => [
    { t: p.t, process: 'jwt-ext-authz', mb: p.ours },
    { t: p.t, process: 'Envoy', mb: p.envoy },
  ])
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `RSS under ${res.seconds / 60} min of mixed hot, cold and invalid tokens through Envoy`,
      subtitle: `${res.machine}; 1-minute load average ${res.loadAverage.before.toFixed(1)}`,
    },
    config: { font: 'sans-serif' },
    data: { values },
    width: 640,
    height: 260,
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'seconds' },
      y: { field: 'mb', type: 'quantitative', title: 'RSS (MiB)' },
      color: { field: 'process', type: 'nominal', title: null },
    },
  }
}

const f = (n: number, d = 0) => n.toFixed(d)

function section(res: SoakResults, wrong: readonly string[]): string {
  const ours = res.series.map((p) => p.ours)
  const at60 = res.series.find((p) => p.t >= 60)
  const total = Object.values(res.wrk.statuses).reduce((a, b) => a + b, 0)
  return [
    ...loadWarning(res.loadAverage),
    `Measured ${new Date().toISOString().slice(0, 16)}Z on ${res.machine}; 1-minute load average ${f(res.loadAverage.before, 2)} before, ${f(res.loadAverage.after, 2)} after.`,
    `${res.seconds} s flat out on 64 connections: ${total} requests (${f(total / res.seconds)} req/s), ${res.wrk.statuses['200'] ?? 0} × 200 and ${res.wrk.statuses['401'] ?? 0} × 401; ${res.coldTokens} distinct cold tokens (the token cache holds 10,000) and as many distinct invalid ones; ${res.upstream.checked} upstream views checked. ${wrong.length === 0 ? 'No failure.' : `❌ ${wrong.join('; ')}`}`,
    '',
    '| process | RSS at start | after 1 min | at the end | highest | slope after the first minute |',
    '|---|---|---|---|---|---|',
    `| jwt-ext-authz | ${f(ours[0]!)} MiB | ${f(at60?.ours ?? 0)} MiB | ${f(ours.at(-1)!)} MiB | ${f(Math.max(...ours))} MiB | **${f(res.slope.ours, 2)} MiB/min** |`,
    `| Envoy | ${f(res.series[0]!.envoy)} MiB | ${f(at60?.envoy ?? 0)} MiB | ${f(res.series.at(-1)!.envoy)} MiB | ${f(Math.max(...res.series.map((p) => p.envoy)))} MiB | ${f(res.slope.envoy, 2)} MiB/min |`,
    '',
    '![RSS over the soak](benchmarks-soak.svg)',
  ].join('\n')
}

/** Writes the results; true when the soak saw no failure. */
export async function writeSoakReport(res: SoakResults): Promise<boolean> {
  writeFileSync('benchmarks-soak.json', `${JSON.stringify(res)}\n`)
  const view = new View(parse(compile(chart(res)).spec), { renderer: 'none' })
  writeFileSync('benchmarks-soak.svg', await view.toSVG())
  view.finalize()
  const wrong = problems(res)
  const text = section(res, wrong)
  const doc = readFileSync('BENCHMARKS.md', 'utf8')
  writeFileSync(
    'BENCHMARKS.md',
    doc.replace(/<!-- soak -->[\s\S]*<!-- \/soak -->/, `<!-- soak -->\n${text}\n<!-- /soak -->`),
  )
  process.stdout.write(`${text}\n`)
  return wrong.length === 0
}
