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
  floor: '6 fixed-allow C-core',
  'h2-sync': '7 fixed-allow node:http2',
  'h2-turn': '7t node:http2, a turn each',
  'baseline-turn': '5t fixed-allow grpc-js, a turn each',
  'ours-before': '3b jwt-ext-authz before',
  'ours-http': '3h jwt-ext-authz (HTTP)',
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
  const models = (res.latency ?? []).flatMap((r) =>
    r.setUps.flatMap((s) =>
      (['p50Us', 'p99Us'] as const).map((key) => ({
        setUp: NAMES[s.setUp],
        load: r.spec.id,
        percentile: key.slice(0, 3),
        ms: s[key] / 1000,
      })),
    ),
  )
  return { throughput, latency, models, rate: paced?.spec.load.rate ?? 0 }
}

const ORDER = Object.values(NAMES)
const SET_UP_AXIS = {
  field: 'setUp',
  type: 'nominal',
  sort: ORDER,
  title: null,
  scale: { domain: ORDER },
  axis: { labelLimit: 260 },
} as const
const BY_PERCENTILE = {
  field: 'percentile',
  type: 'nominal',
  sort: PERCENTILES.map((p) => p[0]),
} as const

const ROWS = ['hot', 'cold', 'light']

/** One panel of the chart, as Vega-Lite types it. */
type Panel = Extract<TopLevelSpec, { hconcat: unknown }>['hconcat'][number]

function throughputPanel(values: object[]): Panel {
  return {
    title: 'req/s flat out (64 connections)',
    data: { values },
    mark: { type: 'bar', tooltip: true },
    width: 260,
    height: 300,
    encoding: {
      y: SET_UP_AXIS,
      yOffset: { field: 'row', sort: ROWS },
      x: { field: 'rps', type: 'quantitative', title: 'requests per second' },
      color: { field: 'row', type: 'nominal', title: 'row', sort: ROWS },
    },
  }
}

/** Per set-up, a line from p50 to p99.9 with a mark at each percentile (log scale). */
function latencyPanel(values: object[], rate: number): Panel {
  const ms = { field: 'ms', type: 'quantitative' } as const
  return {
    title: `latency at ${rate} req/s, paced evenly (hot token)`,
    data: { values },
    width: 320,
    height: 300,
    encoding: { y: SET_UP_AXIS },
    layer: [
      {
        mark: { type: 'rule', color: '#bbb' },
        encoding: { x: { ...ms, aggregate: 'min' }, x2: { field: 'ms', aggregate: 'max' } },
      },
      {
        mark: { type: 'point', filled: true, size: 70, tooltip: true },
        encoding: {
          x: { ...ms, scale: { type: 'log' }, title: 'milliseconds (log scale)' },
          color: BY_PERCENTILE,
          shape: BY_PERCENTILE,
        },
      },
    ],
  }
}

/** p50 (filled) and p99 (open) per set-up under each latency row's load (log scale). */
function modelsPanel(values: object[]): Panel {
  const loads = ['closed', 'open1k', 'open3k']
  return {
    title: 'latency: closed loop with think time; open loop at 1k and 3k req/s',
    data: { values },
    width: 320,
    height: 300,
    mark: { type: 'point', size: 60, tooltip: true },
    encoding: {
      y: SET_UP_AXIS,
      yOffset: { field: 'load', sort: loads },
      x: {
        field: 'ms',
        type: 'quantitative',
        scale: { type: 'log' },
        title: 'milliseconds (log scale)',
      },
      color: { field: 'load', type: 'nominal', title: 'load', sort: loads },
      shape: { field: 'percentile', type: 'nominal', title: 'percentile' },
    },
  }
}

function spec(res: EnvoyResults): TopLevelSpec {
  const d = data(res)
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Through Envoy (1 worker): each authorization set-up',
      subtitle: [
        res.machine,
        `1-minute load average ${res.loadAverage.before.toFixed(1)} at start`,
      ],
    },
    config: { font: 'sans-serif', view: { stroke: null } },
    resolve: { scale: { color: 'independent', shape: 'independent' } },
    hconcat: [
      throughputPanel(d.throughput),
      latencyPanel(d.latency, d.rate),
      ...(d.models.length > 0 ? [modelsPanel(d.models)] : []),
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
