import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_CREDENTIAL_METADATA_KEY } from '../../src/config/secret-schema.js'
import { configOf, docs, kind, type Doc } from './manifest-docs.js'

// Envoy AI Gateway cannot run here (no cluster): its objects are checked against AI Gateway's
// API (v1beta1: BackendSecurityPolicySpec.credentialOverride.fromDynamicMetadata reads a
// string under {namespace, key}, key defaulting to x-aigw-api-key for APIKey, and falls back
// to the static key unless fallbackToConfigured is false), our Service and the config.

const k8s = docs('deploy/kubernetes')
const service = kind(k8s, 'Service')
const deployment = kind(k8s, 'Deployment')
const all = docs('deploy/gateway-api/ai-gateway')
const route = kind(all, 'AIGatewayRoute')
const policy = kind(all, 'BackendSecurityPolicy')
const backend = kind(all, 'AIServiceBackend')
const security = kind(all, 'SecurityPolicy')
const configMap = kind(all, 'ConfigMap')
const config = configOf(configMap)
const grpcPort = service.spec.ports.find((p: Doc) => p.name === 'grpc')

/** Our config's route for a request AI Gateway serves (OpenAI's API paths). */
const openai = config.routes.find((r) => '/v1/chat/completions'.startsWith(r.match.prefix ?? '-'))!

test('AI Gateway takes the key jwt-ext-authz writes, from the metadata name the route writes it under', () => {
  assert.ok(openai, 'a route of the config matches /v1/chat/completions')
  const written = openai.upstream.credentialMetadata?.key ?? DEFAULT_CREDENTIAL_METADATA_KEY
  const { fromDynamicMetadata } = policy.spec.credentialOverride
  assert.equal(fromDynamicMetadata.namespace, 'envoy.filters.http.ext_authz')
  assert.equal(fromDynamicMetadata.key ?? 'x-aigw-api-key', written)
  assert.equal(policy.spec.type, 'APIKey', 'x-aigw-api-key is the APIKey default; a bare key')
  // Fallback would send the static key to a caller jwt-ext-authz gave none: fail closed.
  assert.equal(fromDynamicMetadata.fallbackToConfigured, false)
  assert.equal(policy.spec.credentialOverride.fromRequestHeaders, undefined)
  const placeholder = all.find(
    (d) => d.kind === 'Secret' && d.metadata.name === policy.spec.apiKey.secretRef.name,
  )
  assert.ok(placeholder?.stringData.apiKey, 'the Secret an APIKey policy must name is here')
})

test("the policy covers the route's backend, and the key is chosen by a claim, never without one", () => {
  assert.deepEqual(policy.spec.targetRefs, [
    { group: 'aigateway.envoyproxy.io', kind: 'AIServiceBackend', name: backend.metadata.name },
  ])
  const refs = route.spec.rules.flatMap((r: Doc) => r.backendRefs.map((b: Doc) => b.name))
  assert.deepEqual([...new Set(refs)], [backend.metadata.name])
  for (const d of [policy, backend, security])
    assert.equal(d.metadata.namespace, route.metadata.namespace)
  const secret = openai.upstream.headers.authorization?.secret
  assert.ok(typeof secret === 'object' && secret.fallback === undefined, 'by claim, no fallback')
})

test("ext_authz runs on the route AI Gateway generates and calls our Service's gRPC port, fail closed", () => {
  assert.equal(security.apiVersion, 'gateway.envoyproxy.io/v1alpha1')
  // AI Gateway's controller names the HTTPRoute it generates after the AIGatewayRoute.
  assert.deepEqual(security.spec.targetRefs, [
    { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: route.metadata.name },
  ])
  const [ref] = security.spec.extAuth.grpc.backendRefs
  assert.deepEqual(
    [ref.name, ref.namespace, ref.port],
    [service.metadata.name, service.metadata.namespace, grpcPort.port],
  )
  assert.equal(security.spec.extAuth.failOpen, false)
  const shipped = kind(docs('deploy/gateway-api/envoy-gateway'), 'SecurityPolicy')
  assert.equal(security.spec.extAuth.timeout, shipped.spec.extAuth.timeout, 'one ext_authz timeout')
  const grant = kind(all, 'ReferenceGrant')
  assert.equal(grant.metadata.namespace, service.metadata.namespace)
  assert.deepEqual(grant.spec.from, [
    { group: 'gateway.envoyproxy.io', kind: 'SecurityPolicy', namespace: route.metadata.namespace },
  ])
})

test('the ConfigMap and Secret replace the base ones: same names, every key file a key of the Secret', () => {
  const volumes = deployment.spec.template.spec.volumes as Doc[]
  assert.equal(configMap.metadata.name, volumes.find((v) => v.configMap)!.configMap.name)
  const volume = volumes.find((v) => v.secret)!
  const teamKeys = all.find(
    (d) => d.kind === 'Secret' && d.metadata.name === volume.secret.secretName,
  )
  assert.ok(teamKeys, 'the provider-key Secret the Deployment mounts')
  const mount = (deployment.spec.template.spec.containers[0].volumeMounts as Doc[]).find(
    (m) => m.name === volume.name,
  )!
  for (const [name, source] of Object.entries(config.secrets)) {
    assert.ok(source.file?.startsWith(`${mount.mountPath}/`), `${name} is read from the mount`)
    const key = source.file!.slice(mount.mountPath.length + 1)
    assert.ok(Object.hasOwn(teamKeys.stringData, key), `${name} is a key of the Secret`)
  }
})
