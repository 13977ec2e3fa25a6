import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { parse, parseAllDocuments } from 'yaml'
import { envoySkip } from '../helpers/envoy.js'
import {
  startEnvoyGateway,
  type EnvoyBootstrap,
  type EnvoyGateway,
} from '../helpers/envoy-gateway.js'
import { seedScenarios } from '../helpers/envoy-seeds.js'
import { ALICE_TOKEN } from '../helpers/keys.js'

const skip = envoySkip()
const FIXTURE = 'test/fixtures/istio/ext-authz-filters.yaml'
const [rbacFilter, extAuthzFilter] = parse(readFileSync(FIXTURE, 'utf8'))
const provider = parse(readFileSync('deploy/istio/extension-provider.yaml', 'utf8')).spec.meshConfig
  .extensionProviders[0]
const policy = parseAllDocuments(readFileSync('deploy/istio/authorization-policy.yaml', 'utf8'))
  .map((d) => d.toJSON())
  .find((d) => d?.spec?.action === 'CUSTOM')

/** Istio's path rule: `x*` is a prefix, `*x` a suffix, anything else exact. */
function istioPathMatcher(path: string): Record<string, string> {
  if (path.endsWith('*')) return { prefix: path.slice(0, -1) }
  if (path.startsWith('*')) return { suffix: path.slice(1) }
  return { exact: path }
}

test('the Istio fixture is what Istio generates from deploy/istio as it is now', () => {
  const grpc = provider.envoyExtAuthzGrpc
  const authz = extAuthzFilter.typed_config
  assert.equal(provider.name, 'jwt-ext-authz')
  assert.equal(authz.grpc_service.envoy_grpc.cluster_name, `outbound|${grpc.port}||${grpc.service}`)
  assert.equal(authz.grpc_service.envoy_grpc.authority, grpc.service)
  assert.equal(authz.grpc_service.timeout, grpc.timeout ?? '600s')
  assert.equal(authz.failure_mode_allow, grpc.failOpen ?? false)
  assert.equal(authz.status_on_error, grpc.statusOnError)
  assert.deepEqual(authz.with_request_body, {
    max_request_bytes: grpc.includeRequestBodyInCheck.maxRequestBytes,
    allow_partial_message: grpc.includeRequestBodyInCheck.allowPartialMessage,
  })
  assert.equal(authz.allowed_headers, undefined)
  assert.equal(
    authz.filter_enabled_metadata.value.string_match.prefix,
    `istio-ext-authz-${provider.name}`,
  )
  assert.equal(policy.spec.provider.name, provider.name)
  const name = `istio-ext-authz-${provider.name}-ns[${policy.metadata.namespace}]-policy[${policy.metadata.name}]-rule[0]`
  const generated = rbacFilter.typed_config.shadow_rules.policies[name]
  assert.ok(generated, `a shadow policy named ${name}`)
  const paths = policy.spec.rules[0].to[0].operation.paths as string[]
  assert.deepEqual(
    generated.permissions[0].and_rules.rules[0].or_rules.rules,
    paths.map((p) => ({ url_path: { path: istioPathMatcher(p) } })),
  )
})

/**
 * The shipped envoy/envoy.yaml as an Istio gateway would run it: our ext_authz filter swapped
 * for the two Istio generates, our cluster under Istio's name, and no per-route
 * context_extensions (Istio sets none).
 */
function asIstioGateway(bootstrap: EnvoyBootstrap): string {
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  const ours = hcm.http_filters.findIndex(
    (f: { name: string }) => f.name === 'envoy.filters.http.ext_authz',
  )
  hcm.http_filters.splice(ours, 1, rbacFilter, extAuthzFilter)
  for (const route of hcm.route_config.virtual_hosts[0].routes) delete route.typed_per_filter_config
  const cluster = bootstrap.static_resources.clusters.find(
    (c: { name: string }) => c.name === 'jwt_ext_authz',
  )
  const istioName = extAuthzFilter.typed_config.grpc_service.envoy_grpc.cluster_name
  cluster.name = istioName
  cluster.load_assignment.cluster_name = istioName
  return `http_filters: ext_authz -> ${FIXTURE}; cluster jwt_ext_authz -> ${istioName}; routes: typed_per_filter_config removed`
}

seedScenarios("Istio's generated filters (test/fixtures/istio)", {
  envoyFile: 'envoy/envoy.yaml',
  adjust: asIstioGateway,
})

describe('Istio: paths the CUSTOM policy must cover', { skip }, () => {
  let gw: EnvoyGateway
  before(async () => {
    gw = await startEnvoyGateway({ envoyFile: 'envoy/envoy.yaml', adjust: asIstioGateway })
  })
  after(() => gw?.stop())

  test('every path the gateway routes to a provider is checked; one it does not route goes nowhere', async () => {
    const before = gw.echo.seen.length
    for (const path of ['/openai', '/openai/v1/models', '/mistralai/v1/chat', '/llm-d/v1/x']) {
      const res = await gw.request(path, 'POST')
      assert.equal(res.status, 401, `${path}: ${res.body}`)
    }
    // The CUSTOM policy's `/openai*` covers more than the routes (`/openai/` and `/openai`).
    for (const path of ['/openaiX/v1/chat', '/llm-dev']) {
      const res = await gw.request(path, 'POST', { authorization: `Bearer ${ALICE_TOKEN}` })
      assert.equal(res.status, 404, `${path}: no route, nothing forwarded`)
    }
    const alice = await gw.request('/openai/v1/chat', 'POST', {
      authorization: `Bearer ${ALICE_TOKEN}`,
    })
    assert.equal(alice.status, 200, 'the openai route allows her, and injects the key')
    const got = await gw.echo.waitFor((r) => r.path === '/v1/chat')
    assert.ok(!JSON.stringify(got).includes(ALICE_TOKEN.split('.')[2]!))
    assert.equal(gw.echo.seen.length, before + 1)
  })
})
