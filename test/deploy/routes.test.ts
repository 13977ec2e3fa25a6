import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parse } from 'yaml'
import { docs, kind, kinds, type Doc } from './manifest-docs.js'

// Every gateway we ship routes for strips the gateway prefix the same way, so a provider gets
// the paths its API serves (test/envoy/openai-sdk.test.ts shows it through the real Envoy; the
// other gateways cannot run here, so their rewrites are compared with Envoy's, path for path).

type Rewrites = [match: string, to: string][]

/** envoy/envoy.yaml: `/openai/` (prefix, trailing slash) is the same match as `PathPrefix /openai`. */
function envoyRewrites(): Rewrites {
  const bootstrap = parse(readFileSync('envoy/envoy.yaml', 'utf8'))
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  return hcm.route_config.virtual_hosts[0].routes.map((r: Doc) => [
    r.match.path !== undefined ? `exact ${r.match.path}` : `prefix ${trimSlash(r.match.prefix)}`,
    r.route.prefix_rewrite,
  ])
}

function httpRouteRewrites(): Rewrites {
  return kind(docs('deploy/gateway-api'), 'HTTPRoute').spec.rules.map((r: Doc) => {
    const [match] = r.matches
    const { path } = r.filters.find((f: Doc) => f.type === 'URLRewrite').urlRewrite
    const to = path.type === 'ReplaceFullPath' ? path.replaceFullPath : path.replacePrefixMatch
    return [`${match.path.type === 'Exact' ? 'exact' : 'prefix'} ${match.path.value}`, to]
  })
}

function istioRewrites(): Rewrites {
  return kind(docs('deploy/istio'), 'VirtualService').spec.http.map((r: Doc) => {
    const { uri } = r.match[0]
    const match = uri.exact !== undefined ? `exact ${uri.exact}` : `prefix ${trimSlash(uri.prefix)}`
    return [match, r.rewrite.uri]
  })
}

function trimSlash(prefix: string): string {
  return prefix.length > 1 ? prefix.replace(/\/$/, '') : prefix
}

const sorted = (r: Rewrites) => r.map(([m, to]) => `${m} -> ${to}`).sort()

test('envoy/envoy.yaml and envoy-http.yaml strip the same prefixes', () => {
  const http = parse(readFileSync('envoy/envoy-http.yaml', 'utf8'))
  const hcm = http.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  const routes = hcm.route_config.virtual_hosts[0].routes.map((r: Doc) => [
    r.match.path !== undefined ? `exact ${r.match.path}` : `prefix ${trimSlash(r.match.prefix)}`,
    r.route.prefix_rewrite,
  ])
  assert.deepEqual(sorted(routes), sorted(envoyRewrites()))
  for (const r of hcm.route_config.virtual_hosts[0].routes)
    assert.equal(r.route.auto_host_rewrite, true)
})

test('the Gateway API HTTPRoute strips the gateway prefix as envoy/envoy.yaml does', () => {
  assert.deepEqual(sorted(httpRouteRewrites()), sorted(envoyRewrites()))
})

test("Istio's VirtualService strips it as envoy/envoy.yaml does, each provider over TLS", () => {
  const istio = docs('deploy/istio')
  assert.deepEqual(sorted(istioRewrites()), sorted(envoyRewrites()))
  const entry = kind(istio, 'ServiceEntry')
  const tls = kinds(istio, 'DestinationRule')
  for (const route of kind(istio, 'VirtualService').spec.http) {
    const { host, port } = route.route[0].destination
    if (host.endsWith('.svc.cluster.local')) continue
    assert.equal(route.rewrite.authority, host, `${route.name}: the provider's Host`)
    assert.ok(entry.spec.hosts.includes(host), `${host} is a ServiceEntry host`)
    const rule = tls.find((d: Doc) => d.spec.host === host)!
    const setting = rule.spec.trafficPolicy.portLevelSettings.find(
      (s: Doc) => s.port.number === port.number,
    )
    assert.deepEqual(setting.tls, { mode: 'SIMPLE', sni: host }, `${host}: TLS originated`)
    const http = entry.spec.ports.find((p: Doc) => p.number === port.number)
    assert.equal(http.targetPort, 443)
  }
})

test("Istio's CUSTOM policy covers every path the VirtualService routes", () => {
  const istio = docs('deploy/istio')
  const policy = kinds(istio, 'AuthorizationPolicy').find((p: Doc) => p.spec.action === 'CUSTOM')!
  const covered: string[] = policy.spec.rules.flatMap((r: Doc) =>
    r.to.flatMap((t: Doc) => t.operation.paths),
  )
  const covers = (path: string) =>
    covered.some((c) => (c.endsWith('*') ? path.startsWith(c.slice(0, -1)) : path === c))
  for (const route of kind(istio, 'VirtualService').spec.http) {
    const { uri } = route.match[0]
    const example = uri.exact ?? `${uri.prefix}v1/anything`
    assert.ok(covers(example), `${route.name}: ${example} is checked`)
  }
})

/** Where Envoy's routes send a path (undefined: no route), applying their prefix_rewrite. */
function envoyUpstreamPath(path: string): string | undefined {
  const bootstrap = parse(readFileSync('envoy/envoy.yaml', 'utf8'))
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  for (const r of hcm.route_config.virtual_hosts[0].routes) {
    if (r.match.path === path) return r.route.prefix_rewrite
    if (r.match.prefix !== undefined && path.startsWith(r.match.prefix))
      return r.route.prefix_rewrite + path.slice(r.match.prefix.length)
  }
  return undefined
}

/**
 * Where deploy/traefik's routers send a path: the router whose Path/PathPrefix rule matches,
 * then its middlewares as Traefik documents them (replacePath, stripPrefix: the first
 * matching prefix, replacePathRegex).
 */
function traefikUpstreamPath(path: string): string | undefined {
  const { middlewares, routers } = parse(readFileSync('deploy/traefik/dynamic.yaml', 'utf8')).http
  const router = Object.values(routers as Record<string, Doc>).find((r) =>
    [...String(r.rule).matchAll(/(Path|PathPrefix)\(`([^`]+)`\)/g)].some(([, kind, p]) =>
      kind === 'Path' ? path === p : path.startsWith(p!),
    ),
  )
  if (router === undefined) return undefined
  let out = path
  for (const name of router.middlewares.slice(1)) {
    const m = middlewares[name]
    if (m.replacePath) out = m.replacePath.path
    else if (m.stripPrefix) {
      const prefix = m.stripPrefix.prefixes.find((p: string) => out.startsWith(p))
      if (prefix !== undefined) out = out.slice(prefix.length) || '/'
    } else if (m.replacePathRegex)
      out = out.replace(new RegExp(m.replacePathRegex.regex), m.replacePathRegex.replacement)
    else assert.fail(`${name}: a middleware this check does not know`)
  }
  return out
}

test("Traefik's routers strip the gateway prefix as envoy/envoy.yaml does", () => {
  for (const path of [
    '/openai',
    '/openai/v1/chat/completions',
    '/openai/v1/models',
    '/mistralai',
    '/mistralai/v1/chat/completions',
    '/huggingface-gloo-gw',
    '/huggingface-gloo-gw/x',
    '/llm-d/v1/completions',
    '/openaiX/v1',
    '/admin',
  ])
    assert.equal(traefikUpstreamPath(path), envoyUpstreamPath(path), path)
})
