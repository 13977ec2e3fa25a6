import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parse } from 'yaml'
import { createCheckClient } from '../helpers/check-client.js'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import { startServeProcess } from '../helpers/serve-process.js'
import { docs, kind, run, selects, tool, type Doc } from './manifest-docs.js'
import { exposedMetrics, groupingLabels, metricSelectors } from './promql.js'

const RULES = 'deploy/helm/jwt-ext-authz/files/alerts.rules.yaml'
const rules = parse(readFileSync(RULES, 'utf8')) as Doc
const dashboard = JSON.parse(readFileSync('deploy/observability/grafana-dashboard.json', 'utf8'))
const observability = docs('deploy/observability')
// Debian's `prometheus` package; .ci/run installs it.
const promtool = tool('promtool', ['promtool'], 'apt-get install prometheus')

/** Every PromQL expression of the rules and the dashboard (panels and variables). */
function expressions(): { where: string; expr: string }[] {
  const fromRules = rules.groups.flatMap((g: Doc) =>
    g.rules.map((r: Doc) => ({ where: `alert ${r.alert}`, expr: r.expr as string })),
  )
  const fromPanels = dashboard.panels.flatMap((p: Doc) =>
    p.targets.map((t: Doc) => ({ where: `panel ${p.title}`, expr: t.expr as string })),
  )
  const fromVariables = dashboard.templating.list
    .filter((v: Doc) => v.type === 'query')
    .map((v: Doc) => ({
      where: `variable ${v.name}`,
      expr: /label_values\((.*),/.exec(v.definition)![1]!,
    }))
  return [...fromRules, ...fromPanels, ...fromVariables]
}

test('promtool check rules accepts the alerting rules', { skip: promtool.skip }, () => {
  assert.match(run(promtool.bin, ['check', 'rules', RULES]), /SUCCESS: 6 rules found/)
})

test(
  'promtool test rules: stale and missing keys, internal_error, reload failures, deny spikes and slow Checks fire on sick series only',
  { skip: promtool.skip },
  () => {
    assert.match(
      run(promtool.bin, ['test', 'rules', 'test/deploy/alerts.promtool.yaml']),
      /SUCCESS/,
    )
  },
)

test('the alerts cover keys, internal errors, deny spikes, reloads and latency nearing the timeout', () => {
  const alerts = rules.groups.flatMap((g: Doc) => g.rules.map((r: Doc) => r.alert))
  assert.deepEqual(alerts.sort(), [
    'JwtExtAuthzDenyRatioSpike',
    'JwtExtAuthzInternalError',
    'JwtExtAuthzKeysStale',
    'JwtExtAuthzKeysUnavailable',
    'JwtExtAuthzReloadFailed',
    'JwtExtAuthzSlowChecks',
  ])
  // p99 past a quarter of the gateway's ext_authz timeout (deploy/istio: 1s, as every shipped
  // gateway config, test/deploy/gateway-api.test.ts): a warning before Envoy answers alone.
  const slow = rules.groups[0].rules.find((r: Doc) => r.alert === 'JwtExtAuthzSlowChecks')
  const istio = kind(docs('deploy/istio'), 'IstioOperator').spec.meshConfig.extensionProviders[0]
  assert.match(slow.expr, /histogram_quantile\(0\.99,/)
  assert.equal(
    Number(/> ([\d.]+)\s*$/.exec(slow.expr)![1]),
    parseFloat(istio.envoyExtAuthzGrpc.timeout) / 4,
  )
})

test("the plain PrometheusRule carries the chart's rules; the ServiceMonitor scrapes our Service", () => {
  assert.deepEqual(kind(observability, 'PrometheusRule').spec.groups, rules.groups)
  const service = kind(docs('deploy/kubernetes'), 'Service')
  const monitor = kind(observability, 'ServiceMonitor')
  assert.equal(monitor.metadata.namespace, service.metadata.namespace)
  selects(monitor.spec.selector.matchLabels, service.metadata.labels)
  assert.deepEqual(monitor.spec.namespaceSelector.matchNames, [service.metadata.namespace])
  const ports = service.spec.ports.map((p: Doc) => p.name)
  for (const e of monitor.spec.endpoints) {
    assert.ok(ports.includes(e.port))
    assert.equal(e.path, '/metrics')
  }
})

test('the dashboard shows what operators ask for, from one Prometheus data source variable', () => {
  const ids = dashboard.panels.map((p: Doc) => p.id)
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique')
  const all = expressions()
    .map((e) => e.expr)
    .join('\n')
  for (const needed of [
    /sum by \(decision, reason\) \(rate\(ext_authz_checks_total/,
    /histogram_quantile\(0\.5, .*ext_authz_check_duration_seconds_bucket/,
    /histogram_quantile\(0\.99, .*ext_authz_check_duration_seconds_bucket/,
    /ext_authz_token_cache_total\{[^}]*result="hit"/,
    /jwks_keys_age_seconds/,
    /jwks_fetch_total/,
    /config_reload_total/,
    /process_resident_memory_bytes/,
    /nodejs_eventloop_lag_p99_seconds/,
  ]) {
    assert.match(all, needed)
  }
  for (const panel of dashboard.panels) {
    assert.equal(panel.datasource.uid, '${datasource}', `${panel.title}: the chosen data source`)
    assert.ok(panel.targets.length > 0 && panel.targets.every((t: Doc) => t.expr), panel.title)
  }
})

// Labels Prometheus adds to every scraped series, never exported by the service.
const TARGET_LABELS = new Set(['namespace', 'job', 'pod', 'instance', 'le'])

test("every metric and label the dashboard and the alerts read is on a running server's /metrics", async (t) => {
  const server = await startServeProcess(['--config', 'examples/llm-gateway.yaml'])
  t.after(() => server.stop())
  const client = createCheckClient(server.grpc)
  t.after(() => client.close())
  // An allow, a deny and a cached allow put samples behind the counters and the histogram.
  for (const token of [ALICE_TOKEN, BOB_TOKEN, ALICE_TOKEN]) {
    await client.check(
      checkRequest({ path: '/openai', headers: { authorization: `Bearer ${token}` } }),
    )
  }
  const reloaded = new Promise<void>((resolve) =>
    server.proc.stderr.on('data', () => server.stderr().includes('config reloaded') && resolve()),
  )
  server.proc.kill('SIGHUP')
  await reloaded
  const exposed = exposedMetrics(await (await fetch(`${server.http}/metrics`)).text())
  for (const { where, expr } of expressions()) {
    const selectors = metricSelectors(expr)
    assert.ok(selectors.length > 0, `${where} reads a metric`)
    for (const { metric, labels } of selectors) {
      const known = exposed.get(metric)
      assert.ok(known, `${where}: ${metric} is not exported`)
      // A label is checked where the metric has samples (JWKS fetches need a remote IdP).
      if (known.size === 0) continue
      for (const label of [...labels, ...groupingLabels(expr)].filter(
        (l) => !TARGET_LABELS.has(l),
      )) {
        assert.ok(
          selectors.some((s) => exposed.get(s.metric)!.has(label)),
          `${where}: label ${label} is on none of its metrics`,
        )
      }
    }
  }
  assert.equal(await server.stop(), 0)
})
