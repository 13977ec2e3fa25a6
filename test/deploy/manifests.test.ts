import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { validateConfig } from '../../src/config/validate.js'
import type { Config } from '../../src/config/schema.js'
import { CLI_TIMEOUT_MS, MAIN } from '../helpers/main-command.js'
import { configOf, docs, kind, kinds, listenPort, selects, type Doc } from './manifest-docs.js'
import { tempDir } from '../helpers/temp-dir.js'

const k8s = docs('deploy/kubernetes')
const istio = docs('deploy/istio')
const deployment = kind(k8s, 'Deployment')
const service = kind(k8s, 'Service')
const secret = kind(k8s, 'Secret')
const networkPolicy = kind(k8s, 'NetworkPolicy')
const pod = deployment.spec.template
const container = pod.spec.containers[0]
const example = parse(readFileSync('examples/llm-gateway.yaml', 'utf8')) as Config
const mounted = configOf(kind(k8s, 'ConfigMap'))

interface PackageJson {
  readonly scripts: Readonly<Record<string, string>>
}

test('the ConfigMap ships no demo keys: a placeholder IdP over https, and the example routes', () => {
  for (const [name, provider] of Object.entries(mounted.providers)) {
    assert.equal(provider.jwks.local, undefined, `${name}: no key material in deploy/`)
    const url = provider.jwks.oidc?.issuerUrl ?? provider.jwks.remote?.url
    assert.ok(url, `${name} fetches its keys`)
    // RFC 2606: example.com can never be someone's IdP, so the placeholder cannot go live.
    for (const u of [url, provider.issuer]) assert.match(u, /^https:\/\/[^/]*example\.com\//)
    assert.ok((provider.audiences ?? []).length > 0, `${name} checks the audience`)
  }
  const validatedExample = validateConfig(example)
  assert.ok(validatedExample.ok)
  assert.notDeepEqual(
    Object.keys(mounted.providers),
    Object.keys(validatedExample.config.providers),
  )
  assert.deepEqual(
    mounted.routes.map((r) => [r.name, r.match.prefix, r.upstream.headers]),
    validatedExample.config.routes.map((r) => [r.name, r.match.prefix, r.upstream.headers]),
  )
})

test('every secret file the config reads is a key of the mounted Secret', () => {
  const mount = container.volumeMounts.find(
    (m: Doc) => m.name === pod.spec.volumes.find((v: Doc) => v.secret).name,
  )
  for (const [name, source] of Object.entries(mounted.secrets)) {
    assert.ok(source.file?.startsWith(`${mount.mountPath}/`), `${name} is read from the mount`)
    assert.ok(
      Object.hasOwn(secret.stringData, source.file!.slice(mount.mountPath.length + 1)),
      `${name} is a key of the Secret`,
    )
  }
  const configMount = container.volumeMounts.find(
    (m: Doc) => m.name === pod.spec.volumes.find((v: Doc) => v.configMap).name,
  )
  assert.deepEqual(container.args, ['serve', '--config', `${configMount.mountPath}/config.yaml`])
})

test('ports agree: config listen, container ports, probes, the Service (port named grpc) and Istio', () => {
  const port = (name: string) => container.ports.find((p: Doc) => p.name === name).containerPort
  assert.equal(listenPort(mounted.listen.grpc), port('grpc'))
  assert.equal(listenPort(mounted.listen.http), port('http'))
  assert.equal(listenPort(mounted.listen.httpAuthz), undefined, 'the gateways use gRPC')
  assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' })
  // "" is the process; the Authorization service name follows readiness, which must not
  // restart a pod whose IdP is down.
  assert.deepEqual(container.livenessProbe.grpc, { port: port('grpc'), service: '' })
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
  assert.equal(pod.spec.automountServiceAccountToken, false)
  for (const selector of [
    deployment.spec.selector.matchLabels,
    service.spec.selector,
    kind(k8s, 'PodDisruptionBudget').spec.selector.matchLabels,
    networkPolicy.spec.podSelector.matchLabels,
  ]) {
    selects(selector, pod.metadata.labels)
  }
  const hpa = kind(k8s, 'HorizontalPodAutoscaler')
  assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name)
  assert.ok(hpa.spec.minReplicas >= 2)
  const namespaces = new Set(k8s.map((d) => d.metadata.namespace ?? d.metadata.name))
  assert.deepEqual([...namespaces], ['jwt-ext-authz'])
})

test('NetworkPolicy: only the Istio ingress gateway reaches Check, only Prometheus the metrics port', () => {
  assert.deepEqual(networkPolicy.spec.policyTypes, ['Ingress'])
  const [gateway, prometheus, ...rest] = networkPolicy.spec.ingress as Doc[]
  assert.deepEqual(rest, [])
  for (const rule of [gateway!, prometheus!]) {
    assert.ok(rule.from.length > 0, 'a rule without `from` admits every pod')
    for (const peer of rule.from) {
      assert.ok(Object.keys(peer.namespaceSelector?.matchLabels ?? {}).length > 0, 'a namespace')
      assert.ok(Object.keys(peer.podSelector?.matchLabels ?? {}).length > 0, 'pods in it')
    }
  }
  const byNumber = (a: number, b: number) => a - b
  const ports = (rule: Doc) => rule.ports.map((p: Doc) => p.port).sort(byNumber)
  const listening = [mounted.listen.grpc, mounted.listen.httpAuthz].map(listenPort)
  assert.deepEqual(ports(gateway!), listening.filter((p) => p !== undefined).sort(byNumber))
  assert.deepEqual(ports(prometheus!), [listenPort(mounted.listen.http)])
  // The same gateway the Istio policies name.
  const custom = kinds(istio, 'AuthorizationPolicy').find((p) => p.spec.action === 'CUSTOM')!
  const peer = gateway!.from[0]
  assert.deepEqual(peer.podSelector.matchLabels, custom.spec.selector.matchLabels)
  assert.equal(peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'istio-system')
  assert.equal(custom.metadata.namespace, 'istio-system')
  assert.equal(prometheus!.from[0].podSelector.matchLabels['app.kubernetes.io/name'], 'prometheus')
})

test('Istio: an explicit timeout, fail closed, bodies in Check, and a CUSTOM policy on every LLM path', () => {
  const provider = kind(istio, 'IstioOperator').spec.meshConfig.extensionProviders[0]
  assert.match(provider.envoyExtAuthzGrpc.timeout, /^\d+(\.\d+)?m?s$/)
  assert.equal(provider.envoyExtAuthzGrpc.failOpen, false)
  assert.ok(provider.envoyExtAuthzGrpc.includeRequestBodyInCheck.maxRequestBytes > 0)
  const policy = kinds(istio, 'AuthorizationPolicy').find((p) => p.spec.action === 'CUSTOM')!
  assert.equal(policy.spec.provider.name, provider.name)
  const paths: string[] = policy.spec.rules.flatMap((r: Doc) =>
    r.to.flatMap((t: Doc) => t.operation.paths),
  )
  for (const route of mounted.routes) {
    assert.ok(
      paths.includes(`${route.match.prefix}*`),
      `${route.name} is protected on every path its prefix routes (Istio: "x*" is a prefix)`,
    )
  }
})

test('Istio: mTLS STRICT on the Check port and only the ingress gateway identity may call it', () => {
  const peer = kind(istio, 'PeerAuthentication')
  assert.equal(peer.metadata.namespace, deployment.metadata.namespace)
  selects(peer.spec.selector.matchLabels, pod.metadata.labels)
  assert.equal(peer.spec.mtls.mode, 'STRICT')
  // Only the metrics port may take plaintext (a Prometheus outside the mesh).
  assert.deepEqual(Object.keys(peer.spec.portLevelMtls), [String(listenPort(mounted.listen.http))])
  const allow = kinds(istio, 'AuthorizationPolicy').find((p) => p.spec.action === 'ALLOW')!
  assert.equal(allow.metadata.namespace, deployment.metadata.namespace)
  selects(allow.spec.selector.matchLabels, pod.metadata.labels)
  const grpc = String(listenPort(mounted.listen.grpc))
  const rulesForGrpc = allow.spec.rules.filter((r: Doc) =>
    r.to.some((t: Doc) => t.operation.ports.includes(grpc)),
  )
  assert.equal(rulesForGrpc.length, 1)
  assert.deepEqual(rulesForGrpc[0].from, [
    {
      source: {
        principals: ['cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'],
      },
    },
  ])
  for (const rule of allow.spec.rules.filter((r: Doc) => r.from === undefined)) {
    const ports = rule.to.flatMap((t: Doc) => t.operation.ports)
    assert.deepEqual(ports, [String(listenPort(mounted.listen.http))], 'open only to metrics')
  }
})

test("npm start runs node with the image's flags (the bench reads them from the Dockerfile)", () => {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))
  assert.ok(entrypoint, 'the Dockerfile has an exec-form ENTRYPOINT')
  const argv = JSON.parse(entrypoint[1]!) as string[]
  assert.equal(argv[0], 'node')
  assert.equal(argv.at(-1), 'dist/src/main.js')
  const flags = argv.slice(1, -1)
  assert.ok(flags.includes('--max-semi-space-size=4'))
  // GC on the thread that answers Checks: on one CPU, V8's helper threads took it for ms.
  assert.ok(flags.includes('--single-threaded-gc'))
  // ...which, measuring itself slow, let the old generation grow 4x before collecting it.
  assert.ok(flags.includes('--heap-growing-percent=30'))
  const start = (JSON.parse(readFileSync('package.json', 'utf8')) as PackageJson).scripts.start
  assert.ok(
    start.endsWith(`exec ${['node', ...flags, 'dist/src/main.js'].join(' ')} serve`),
    `npm start (${start}) runs node ${flags.join(' ')}`,
  )
})

test('the image serves the mounted config by default, and without one says what to mount', () => {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))
  assert.ok(cmd, 'the Dockerfile has an exec-form CMD')
  assert.deepEqual(JSON.parse(cmd[1]!), container.args)
  const dir = tempDir('no-config')
  try {
    const missing = join(dir, 'config.yaml')
    const res = spawnSync(process.execPath, [...MAIN, 'serve', '--config', missing], {
      encoding: 'utf8',
      timeout: CLI_TIMEOUT_MS,
    })
    assert.equal(res.status, 1, res.stderr)
    assert.match(res.stderr, /cannot read config \(ENOENT\); mount your config file there/)
    assert.ok(res.stderr.includes(missing))
    assert.ok(!res.stderr.includes('    at '), 'no stack trace')
  } finally {
    rmSync(dir, { recursive: true, force: true })
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

test('validate --schema-only checks the deployed config as written; plain validate needs its secret files', () => {
  const dir = tempDir('deployed-config')
  const file = join(dir, 'config.yaml')
  writeFileSync(file, kind(k8s, 'ConfigMap').data['config.yaml'])
  const validate = (...args: string[]) =>
    spawnSync(process.execPath, [...MAIN, 'validate', '--config', file, ...args], {
      encoding: 'utf8',
      timeout: CLI_TIMEOUT_MS,
    })
  const here = validate()
  assert.equal(here.status, 1, 'the secret files exist only in the cluster')
  assert.match(here.stderr, /secrets\.openai: cannot read secret file \/run\/secrets\//)
  const asWritten = validate('--schema-only')
  assert.equal(asWritten.status, 0, asWritten.stderr)
  assert.match(asWritten.stdout, /valid as written \(no secret, env var, key file or IdP read\)/)
  assert.doesNotMatch(asWritten.stdout, /placeholder/, 'no stand-in value is ever printed')
  // What the schema and the compile check still fails, with its path.
  writeFileSync(
    file,
    kind(k8s, 'ConfigMap').data['config.yaml'].replace(
      'match: { prefix: /openai }',
      'match: { regex: "(" }',
    ),
  )
  const broken = validate('--schema-only')
  assert.equal(broken.status, 1)
  assert.match(broken.stderr, /routes\[0\]\.match\.regex: /)
})
