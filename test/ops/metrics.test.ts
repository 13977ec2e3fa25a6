import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client'
import { LabelledHistogram } from '../../src/ops/labelled-histogram.js'
import { createMetrics } from '../../src/ops/metrics.js'

const BUCKETS = [0.00005, 0.0001, 0.001, 0.01, 0.1, 1]
const SAMPLES: [string, number][] = [
  ['allow', 0.00004],
  ['allow', 0.00005],
  ['allow', 0.0003],
  ['deny', 0.02],
  ['allow', 0.5],
  ['deny', 7],
  ['allow', 0.00009],
]

test("the labelled histogram exposes exactly what prom-client's Histogram does", async () => {
  const ours = new Registry()
  const theirs = new Registry()
  const fast = new LabelledHistogram(ours, {
    name: 'd_seconds',
    help: 'h',
    labelName: 'decision',
    buckets: BUCKETS,
  })
  const reference = new Histogram({
    name: 'd_seconds',
    help: 'h',
    labelNames: ['decision'] as const,
    buckets: BUCKETS,
    registers: [theirs],
  })
  for (const [decision, seconds] of SAMPLES) {
    fast.observe(decision, seconds)
    reference.observe({ decision }, seconds)
  }
  assert.equal(await ours.metrics(), await theirs.metrics())
  // prom-client adds `exemplar: null` (or undefined) to each value; nothing reads it here.
  const json = async (r: Registry) =>
    JSON.parse(
      JSON.stringify(await r.getMetricsAsJSON(), (k, v) => (k === 'exemplar' ? undefined : v)),
    )
  assert.deepEqual(await json(ours), await json(theirs))
  // --workers sums the workers' JSON in the primary: the same as prom-client's.
  const twice = (r: Registry) => r.getMetricsAsJSON().then((j) => [j, j])
  assert.equal(
    await AggregatorRegistry.aggregate(await twice(ours)).metrics(),
    await AggregatorRegistry.aggregate(await twice(theirs)).metrics(),
  )
})

test('checks and token-cache lookups are counted per label set, read at every scrape', async () => {
  const metrics = createMetrics()
  const reference = new Registry()
  const checks = new Counter({
    name: 'ext_authz_checks_total',
    help: 'Check calls answered, by route, decision and deny reason',
    labelNames: ['route', 'decision', 'reason'] as const,
    registers: [reference],
  })
  const lookups = new Counter({
    name: 'ext_authz_token_cache_total',
    help: 'Verified-token cache lookups, by result (hit: signature check skipped)',
    labelNames: ['result'] as const,
    registers: [reference],
  })
  const text = async (r: Registry, name: string) =>
    r.getSingleMetricAsString(name).then((t) => t.split('\n').sort().join('\n'))
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 3; i++) {
      metrics.countCheck('openai', 'allow', '', 0.001)
      checks.inc({ route: 'openai', decision: 'allow', reason: '' })
      metrics.countTokenCacheLookup(i > 0)
      lookups.inc({ result: i > 0 ? 'hit' : 'miss' })
    }
    metrics.countCheck('openai', 'deny', 'rbac_denied', 0.001)
    checks.inc({ route: 'openai', decision: 'deny', reason: 'rbac_denied' })
    for (const name of ['ext_authz_checks_total', 'ext_authz_token_cache_total']) {
      assert.equal(await text(metrics.registry, name), await text(reference, name), name)
    }
  }
  assert.match(
    await metrics.registry.metrics(),
    /ext_authz_checks_total\{route="openai",decision="allow",reason=""\} 6\n/,
  )
})
