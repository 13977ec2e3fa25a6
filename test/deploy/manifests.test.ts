import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse, parseAllDocuments } from 'yaml'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'
import type { Config } from '../../src/config/schema.js'

/** Parsed manifests are checked field by field below; their shape is what is under test. */
type Doc = Record<string, any>

function docs(dir: string): Doc[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => {
        assert.deepEqual(d.errors, [], `${dir}/${f} parses`)
        return d.toJSON() as Doc
      }),
    )
}

const k8s = docs('deploy/kubernetes')
const istio = docs('deploy/istio')
const kind = (all: Doc[], k: string) => {
  const found = all.find((d) => d.kind === k)
  assert.ok(found, `a ${k} is present`)
  return found
}
const deployment = kind(k8s, 'Deployment')
const service = kind(k8s, 'Service')
const configMap = kind(k8s, 'ConfigMap')
const secret = kind(k8s, 'Secret')
const container = deployment.spec.template.spec.containers[0]
const example = parse(readFileSync('examples/llm-gateway.yaml', 'utf8')) as Config

function mountedConfig(): Config {
  const result = validateConfig(parseConfigText(configMap.data['config.yaml']))
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.errors))
  return result.config
}

test('the ConfigMap config is valid and serves the same providers and routes as the example', () => {
  const config = mountedConfig()
  assert.deepEqual(
    config.providers,
    validateConfig(example).ok && (validateConfig(example) as { config: Config }).config.providers,
  )
  assert.deepEqual(
    config.routes.map((r) => [r.name, r.match.prefix]),
    example.routes.map((r) => [r.name, r.match?.prefix]),
  )
})

test('every secret file the config reads is a key of the mounted Secret', () => {
  const mount = container.volumeMounts.find(
    (m: Doc) => m.name === deployment.spec.template.spec.volumes.find((v: Doc) => v.secret).name,
  )
  for (const [name, source] of Object.entries(mountedConfig().secrets)) {
    assert.ok(
      source.file?.startsWith(`${mount.mountPath}/`),
      `${name} is read from the Secret mount`,
    )
    assert.ok(
      Object.hasOwn(secret.stringData, source.file!.slice(mount.mountPath.length + 1)),
      `${name} is a key of the Secret`,
    )
  }
  const configMount = container.volumeMounts.find(
    (m: Doc) => m.name === deployment.spec.template.spec.volumes.find((v: Doc) => v.configMap).name,
  )
  assert.deepEqual(container.args, ['serve', '--config', `${configMount.mountPath}/config.yaml`])
})

test('ports agree: config listen, container ports, probes, the Service (port named grpc) and Istio', () => {
  const config = mountedConfig()
  const port = (name: string) => container.ports.find((p: Doc) => p.name === name).containerPort
  assert.equal(Number(config.listen.grpc.split(':').pop()), port('grpc'))
  assert.equal(Number(config.listen.http.split(':').pop()), port('http'))
  assert.equal(container.readinessProbe.httpGet.path, '/readyz')
  assert.equal(container.livenessProbe.grpc.port, port('grpc'))
  const grpcPort = service.spec.ports.find((p: Doc) => p.name === 'grpc')
  assert.ok(grpcPort, 'the Service port is named grpc (istio#50881)')
  assert.equal(grpcPort.targetPort, 'grpc')
  const provider = kind(istio, 'IstioOperator').spec.meshConfig.extensionProviders[0]
  assert.equal(
    provider.envoyExtAuthzGrpc.service,
    `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`,
  )
  assert.equal(provider.envoyExtAuthzGrpc.port, grpcPort.port)
})

test('Kubernetes objects: 2+ replicas, resources, selectors that match, PDB and HPA on the Deployment', () => {
  assert.ok(deployment.spec.replicas >= 2)
  assert.ok(container.resources.requests.cpu && container.resources.requests.memory)
  const labels = deployment.spec.template.metadata.labels
  for (const selector of [
    deployment.spec.selector.matchLabels,
    service.spec.selector,
    kind(k8s, 'PodDisruptionBudget').spec.selector.matchLabels,
  ]) {
    for (const [k, v] of Object.entries(selector)) assert.equal(labels[k], v)
  }
  const hpa = kind(k8s, 'HorizontalPodAutoscaler')
  assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name)
  assert.ok(hpa.spec.minReplicas >= 2)
  const namespaces = new Set(k8s.map((d) => d.metadata.namespace ?? d.metadata.name))
  assert.deepEqual([...namespaces], ['jwt-ext-authz'])
})

test('Istio: an explicit timeout, fail closed, bodies in Check, and a CUSTOM policy on every LLM path', () => {
  const provider = kind(istio, 'IstioOperator').spec.meshConfig.extensionProviders[0]
  assert.match(provider.envoyExtAuthzGrpc.timeout, /^\d+(\.\d+)?m?s$/)
  assert.equal(provider.envoyExtAuthzGrpc.failOpen, false)
  assert.ok(provider.envoyExtAuthzGrpc.includeRequestBodyInCheck.maxRequestBytes > 0)
  const policy = kind(istio, 'AuthorizationPolicy')
  assert.equal(policy.spec.action, 'CUSTOM')
  assert.equal(policy.spec.provider.name, provider.name)
  const paths: string[] = policy.spec.rules.flatMap((r: Doc) =>
    r.to.flatMap((t: Doc) => t.operation.paths),
  )
  for (const route of mountedConfig().routes) {
    assert.ok(
      paths.includes(`${route.match.prefix}*`),
      `${route.name} is protected on every path its prefix routes (Istio: "x*" is a prefix)`,
    )
  }
})

// .ci/run installs Debian's docker-compose, so CI always runs this; a developer machine
// without it is told so instead of failing.
const composeMissing = spawnSync('docker-compose', ['version']).error !== undefined
const skipCompose =
  composeMissing && !process.env.CI
    ? 'docker-compose not installed (apt-get install docker-compose)'
    : false

test(
  'docker-compose.yml is valid for Debian docker-compose and wires Envoy to the service and the echo upstream',
  { skip: skipCompose },
  () => {
    assert.ok(!composeMissing, 'docker-compose is not installed (apt-get install docker-compose)')
    const res = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      encoding: 'utf8',
      env: { ...process.env, OPENAI_API_KEY: '' },
    })
    assert.equal(res.status, 0, res.stderr)
    const compose = parse(res.stdout) as Doc
    const envoy = parse(readFileSync('envoy/envoy.yaml', 'utf8')) as Doc
    const addresses = envoy.static_resources.clusters.map(
      (c: Doc) => c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address,
    )
    for (const { address } of addresses)
      assert.ok(compose.services[address], `envoy cluster host ${address} is a compose service`)
    assert.ok(addresses.some((a: Doc) => a.address === 'jwt-ext-authz' && a.port_value === 9001))
    assert.ok(
      compose.services.envoy.volumes.some((v: Doc | string) =>
        JSON.stringify(v).includes('envoy/envoy.yaml'),
      ),
    )
    assert.equal(compose.services['jwt-ext-authz'].build.context !== undefined, true)
  },
)
