// benchmarks-envoy.svg, drawn by Vega-Lite from the bench's results (never by hand): per
// set-up, the flat-out req/s (hot and cold) and the latency percentiles at the paced rate.
// `npm run bench:chart` redraws it from benchmarks-envoy.json.
import { readFileSync, writeFileSync } from 'node:fs'
import { parse, View } from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
import { RESULTS_FILE, type EnvoyResults } from './report.js'
import type { SetUpName } from './setups.js'

export const CHART_FILE = 'benchmarks-envoy.svg'

/** Short names, so the axis shows them whole; BENCHMARKS.md's table has the long ones. */
const NAMES: Record<SetUpName, string> = {
  envoy: '1 Envoy alone',
  jwt_authn: '2 Envoy jwt_authn + rbac',
  ours: '3 jwt-ext-authz (as shipped)',
  'ours-sampled': '3s jwt-ext-authz (log sampled)',
  'ours-cold': '3c jwt-ext-authz (cache off)',
  opa: '4 OPA-Envoy',
  baseline: '5 fixed-allow grpc-js',
}

const PERCENTILES = [
  ['p50', 'p50Us'],
  ['p90', 'p90Us'],
  ['p99', 'p99Us'],
  ['p99.9', 'p999Us'],
] as const

function data(res: EnvoyResults) {
  const throughput = res.rows
    .filter((r) => r.spec.compare === 'rps')
    .flatMap((r) =>
      r.setUps.map((s) => ({ setUp: NAMES[s.setUp], row: r.spec.id, rps: Math.round(s.rps) })),
    )
  const paced = res.rows.find((r) => r.spec.id === 'paced')
  const latency = (paced?.setUps ?? []).flatMap((s) =>
    PERCENTILES.map(([name, key]) => ({
      setUp: NAMES[s.setUp],
      percentile: name,
      ms: s[key] / 1000,
    })),
  )
  return { throughput, latency, rate: paced?.spec.load.rate ?? 0 }
}

function spec(res: EnvoyResults): TopLevelSpec {
  const d = data(res)
  const order = Object.values(NAMES)
  const setUp = {
    field: 'setUp',
    type: 'nominal',
    sort: order,
    title: null,
    scale: { domain: order },
    axis: { labelLimit: 260 },
  } as const
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Through Envoy (1 worker): each authorization set-up', subtitle: res.machine },
    config: { font: 'sans-serif', view: { stroke: null } },
    resolve: { scale: { color: 'independent', shape: 'independent' } },
    hconcat: [
      {
        title: 'req/s flat out (64 connections)',
        data: { values: d.throughput },
        mark: { type: 'bar', tooltip: true },
        width: 260,
        height: 300,
        encoding: {
          y: setUp,
          yOffset: { field: 'row', sort: ['hot', 'cold'] },
          x: { field: 'rps', type: 'quantitative', title: 'requests per second' },
          color: { field: 'row', type: 'nominal', title: 'token', sort: ['hot', 'cold'] },
        },
      },
      {
        title: `latency at ${d.rate} req/s, paced evenly (hot token)`,
        data: { values: d.latency },
        width: 320,
        height: 300,
        encoding: { y: setUp },
        layer: [
          {
            mark: { type: 'rule', color: '#bbb' },
            encoding: {
              x: { aggregate: 'min', field: 'ms', type: 'quantitative' },
              x2: { aggregate: 'max', field: 'ms' },
            },
          },
          {
            mark: { type: 'point', filled: true, size: 70, tooltip: true },
            encoding: {
              x: {
                field: 'ms',
                type: 'quantitative',
                scale: { type: 'log' },
                title: 'milliseconds (log scale)',
              },
              color: { field: 'percentile', type: 'nominal', sort: PERCENTILES.map((p) => p[0]) },
              shape: { field: 'percentile', type: 'nominal', sort: PERCENTILES.map((p) => p[0]) },
            },
          },
        ],
      },
    ],
  }
}

export async function writeChart(res: EnvoyResults): Promise<void> {
  const view = new View(parse(compile(spec(res)).spec), { renderer: 'none' })
  writeFileSync(CHART_FILE, await view.toSVG())
  view.finalize()
}

// `npm run bench:chart`: redraw from the last results.
if (process.argv[1]?.endsWith('chart.ts')) {
  await writeChart(JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as EnvoyResults)
}
