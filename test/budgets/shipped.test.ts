import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { USAGE_KEY, USAGE_NAMESPACE } from '../../src/budgets/envoy-rate-limits.js'
import type { EnvoyBootstrap } from '../helpers/envoy-gateway.js'
import { CLI_TIMEOUT_MS, MAIN } from '../helpers/main-command.js'
import { budgetsSkip, startRateLimit, startRedis } from '../helpers/ratelimit.js'
import { tempDir } from '../helpers/temp-dir.js'

const EXAMPLE = 'examples/budgets.yaml'

function cli(...args: string[]) {
  return spawnSync(process.execPath, [...MAIN, 'ratelimit-config', ...args], {
    encoding: 'utf8',
    timeout: CLI_TIMEOUT_MS,
  })
}

const bootstrap: EnvoyBootstrap = parse(readFileSync('envoy/envoy-budgets.yaml', 'utf8'))
const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
const filters: { name: string; typed_config: EnvoyBootstrap }[] = hcm.http_filters
const filter = (name: string) => filters.find((f) => f.name === `envoy.filters.http.${name}`)!

test('deploy/ratelimit/config.yaml is what ratelimit-config generates from examples/budgets.yaml', () => {
  const run = cli('--config', EXAMPLE)
  assert.equal(run.status, 0, run.stderr)
  assert.equal(readFileSync('deploy/ratelimit/config.yaml', 'utf8'), run.stdout)
})

test('envoy/envoy-budgets.yaml carries the rate limits ratelimit-config --envoy generates', () => {
  const run = cli('--envoy', '--config', EXAMPLE)
  assert.equal(run.status, 0, run.stderr)
  const generated = parse(run.stdout)['envoy.filters.http.ratelimit']
  const host = hcm.route_config.virtual_hosts[0]
  assert.deepEqual(host.typed_per_filter_config['envoy.filters.http.ratelimit'], generated)
  const example = parse(readFileSync(EXAMPLE, 'utf8'))
  assert.equal(filter('ratelimit').typed_config.domain, example.budgets.domain)
})

test('envoy/envoy-budgets.yaml: ext_authz, then the budgets (fail closed, x-ratelimit headers), then usage into metadata', () => {
  assert.deepEqual(
    filters.map((f) => f.name.replace('envoy.filters.http.', '')),
    ['ext_authz', 'ratelimit', 'json_to_metadata', 'sse_to_metadata', 'router'],
  )
  const ratelimit = filter('ratelimit').typed_config
  assert.equal(ratelimit.failure_mode_deny, true)
  assert.equal(ratelimit.enable_x_ratelimit_headers, 'DRAFT_VERSION_03')
  assert.equal(filter('ext_authz').typed_config.failure_mode_allow, false)
  const usage = { metadata_namespace: USAGE_NAMESPACE, key: USAGE_KEY, type: 'NUMBER' }
  const plain = filter('json_to_metadata').typed_config.response_rules.rules[0]
  assert.deepEqual(plain.selectors, [{ key: 'usage' }, { key: 'total_tokens' }])
  assert.deepEqual(plain.on_present, usage)
  const parser = filter('sse_to_metadata').typed_config.response_rules.content_parser
  assert.deepEqual(parser.typed_config.rules[0].rule, plain)
})

test('docker-compose.yml runs envoy-budgets.yaml, the generated config, and the ratelimit commit the tests build', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'))
  const { services } = compose
  for (const name of ['jwt-ext-authz-budgets', 'envoy-budgets', 'ratelimit', 'redis'])
    assert.deepEqual(services[name].profiles, ['budgets'], `${name} only with --profile budgets`)
  const clusters: EnvoyBootstrap[] = bootstrap.static_resources.clusters
  for (const c of clusters) {
    const host = c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
    assert.ok(services[host.address], `envoy cluster host ${host.address} is a compose service`)
  }
  assert.ok(services['envoy-budgets'].volumes[0].startsWith('./envoy/envoy-budgets.yaml:'))
  assert.ok(services.ratelimit.volumes[0].startsWith('./deploy/ratelimit:'))
  assert.match(services['jwt-ext-authz-budgets'].command.join(' '), /examples\/budgets\.yaml/)
  const pinned = /RATELIMIT_VERSION=v[\d.]+-0\.\d+-([0-9a-f]{12})/.exec(
    readFileSync('scripts/install-ratelimit.sh', 'utf8'),
  )![1]!
  assert.equal(services.ratelimit.image, `envoyproxy/ratelimit:${pinned.slice(0, 8)}`)
  assert.equal(services.ratelimit.environment.STOP_CACHE_KEY_INCREMENT_WHEN_OVERLIMIT, 'true')
  const redis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout
  const version = /v=(\d+\.\d+\.\d+)/.exec(redis)?.[1]
  if (version !== undefined) assert.equal(services.redis.image, `redis:${version}-alpine`)
})

test(
  'the real envoyproxy/ratelimit loads deploy/ratelimit/config.yaml',
  { skip: budgetsSkip() },
  async () => {
    const redis = await startRedis()
    try {
      const ratelimit = await startRateLimit(
        readFileSync('deploy/ratelimit/config.yaml', 'utf8'),
        redis,
      )
      await ratelimit.stop()
      assert.doesNotMatch(ratelimit.output(), /error loading|panic/i)
    } finally {
      await redis.stop()
    }
  },
)

test('ratelimit-config refuses a config without budgets, and names the path of a bad one', () => {
  const none = cli('--config', 'examples/llm-gateway.yaml')
  assert.equal(none.status, 1)
  assert.match(none.stderr, /examples\/llm-gateway\.yaml: no budgets section/)
  const dir = tempDir('ratelimit-config')
  const bad = join(dir, 'bad.yaml')
  writeFileSync(
    bad,
    readFileSync(EXAMPLE, 'utf8').replace('user-model: { cost: 2 }', 'model: { tokens: 5/day }'),
  )
  const refused = cli('--config', bad)
  assert.equal(refused.status, 1)
  assert.match(
    refused.stderr,
    /budgets\.overrides\.values\.batch\.model\.tokens: limit model counts no tokens/,
  )
})
