import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parse } from 'yaml'
import { configOf, docs, kind, listenPort, type Doc } from './manifest-docs.js'

// Envoy Gateway and kgateway cannot run here (no cluster): their objects are checked against
// our Service, the routes of the deploy config, and the rules Gateway API sets for references.

const k8s = docs('deploy/kubernetes')
const service = kind(k8s, 'Service')
const mounted = configOf(kind(k8s, 'ConfigMap'))
const route = kind(docs('deploy/gateway-api'), 'HTTPRoute')
const envoyGateway = docs('deploy/gateway-api/envoy-gateway')
const kgateway = docs('deploy/gateway-api/kgateway')
const grpcPort = service.spec.ports.find((p: Doc) => p.name === 'grpc')

test('the HTTPRoute sends every route prefix of the config, and nothing else, to an upstream', () => {
  const prefixes = route.spec.rules.flatMap((r: Doc) =>
    r.matches.filter((m: Doc) => m.path.type === 'PathPrefix').map((m: Doc) => m.path.value),
  )
  const byText = (a: unknown, b: unknown) => String(a).localeCompare(String(b))
  assert.deepEqual(prefixes.sort(byText), mounted.routes.map((r) => r.match.prefix).sort(byText))
  for (const rule of route.spec.rules) assert.ok(rule.backendRefs.length > 0)
})

/** A backendRef that points at our Service's gRPC port, from another namespace. */
function assertOurGrpcService(ref: Doc) {
  assert.equal(ref.name, service.metadata.name)
  assert.equal(ref.namespace, service.metadata.namespace)
  assert.equal(ref.port, grpcPort.port, 'the Service port named grpc (HTTP/2)')
  assert.ok(ref.kind === undefined || ref.kind === 'Service')
}

/** Gateway API: a reference into our namespace needs a ReferenceGrant there from that kind. */
function assertGranted(all: Doc[], group: string, fromKind: string, fromNamespace: string) {
  const grant = kind(all, 'ReferenceGrant')
  assert.equal(grant.metadata.namespace, service.metadata.namespace)
  assert.deepEqual(grant.spec.from, [{ group, kind: fromKind, namespace: fromNamespace }])
  assert.deepEqual(grant.spec.to, [{ group: '', kind: 'Service', name: service.metadata.name }])
}

function assertTargetsRoute(policy: Doc) {
  assert.equal(policy.metadata.namespace, route.metadata.namespace, 'policies attach locally')
  assert.deepEqual(policy.spec.targetRefs, [
    { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: route.metadata.name },
  ])
}

test('Envoy Gateway: a SecurityPolicy on the route calls our Service over gRPC with the body, fail closed', () => {
  const policy = kind(envoyGateway, 'SecurityPolicy')
  assert.equal(policy.apiVersion, 'gateway.envoyproxy.io/v1alpha1')
  assertTargetsRoute(policy)
  const { extAuth } = policy.spec
  assert.equal(extAuth.http, undefined)
  assert.equal(extAuth.grpc.backendRefs.length, 1)
  assertOurGrpcService(extAuth.grpc.backendRefs[0])
  assert.equal(extAuth.failOpen, false)
  // A gRPC Check gets every header unless this narrows it; we need the token's header.
  assert.equal(extAuth.headersToExtAuth, undefined)
  // No partial bodies in Envoy Gateway: anything bigger is a 413, so allow what we accept.
  assert.equal(extAuth.bodyToExtAuth.maxRequestBytes, mounted.limits.maxBodyBytes)
  assertGranted(envoyGateway, 'gateway.envoyproxy.io', 'SecurityPolicy', policy.metadata.namespace)
})

test('kgateway: a GatewayExtension names our Service, a TrafficPolicy on the route uses it with the body', () => {
  const extension = kind(kgateway, 'GatewayExtension')
  const policy = kind(kgateway, 'TrafficPolicy')
  for (const d of [extension, policy]) assert.equal(d.apiVersion, 'gateway.kgateway.dev/v1alpha1')
  assert.equal(extension.metadata.namespace, route.metadata.namespace)
  const { extAuth } = extension.spec
  assert.equal(extAuth.httpService, undefined)
  assertOurGrpcService(extAuth.grpcService.backendRef)
  assert.equal(extAuth.failOpen, false)
  assert.equal(extAuth.headersToForward, undefined)
  assertTargetsRoute(policy)
  assert.deepEqual(policy.spec.extAuth.extensionRef, { name: extension.metadata.name })
  const body = policy.spec.extAuth.withRequestBody
  assert.ok(body.maxRequestBytes > 0 && body.maxRequestBytes <= mounted.limits.maxBodyBytes)
  assert.equal(body.allowPartialMessage, true)
  assertGranted(kgateway, 'gateway.kgateway.dev', 'GatewayExtension', extension.metadata.namespace)
})

test('one ext_authz timeout everywhere we ship a gateway, and the slow-Check alert at a quarter of it', () => {
  const extAuthz = (file: string) => {
    const bootstrap = parse(readFileSync(file, 'utf8'))
    const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
    const filter = hcm.http_filters.find((f: Doc) => f.name === 'envoy.filters.http.ext_authz')
    const { grpc_service: grpc, http_service: http } = filter.typed_config
    return String(grpc?.timeout ?? http.server_uri.timeout)
  }
  const istio = kind(docs('deploy/istio'), 'IstioOperator').spec.meshConfig.extensionProviders[0]
  const timeouts = {
    'envoy/envoy.yaml': extAuthz('envoy/envoy.yaml'),
    'envoy/envoy-http.yaml': extAuthz('envoy/envoy-http.yaml'),
    'deploy/istio': istio.envoyExtAuthzGrpc.timeout,
    'Envoy Gateway': kind(envoyGateway, 'SecurityPolicy').spec.extAuth.timeout,
    kgateway: kind(kgateway, 'GatewayExtension').spec.extAuth.grpcService.requestTimeout,
  }
  for (const [where, timeout] of Object.entries(timeouts)) assert.equal(timeout, '1s', where)
  const rules = parse(readFileSync('deploy/helm/jwt-ext-authz/files/alerts.rules.yaml', 'utf8'))
  const slow = rules.groups
    .flatMap((g: Doc) => g.rules)
    .find((r: Doc) => r.alert === 'JwtExtAuthzSlowChecks')
  assert.match(slow.expr, /\) > 0\.25\s*$/, 'a quarter of 1s')
  assert.equal(listenPort(mounted.listen.grpc), grpcPort.port)
})
