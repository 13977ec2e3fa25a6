import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { spawnSync } from 'node:child_process'
import {
  CHART,
  configOf,
  docs,
  helm,
  kind,
  kinds,
  listenPort,
  renderChart,
  runHelm,
  selects,
  type Doc,
} from './manifest-docs.js'
import { tempDir } from '../helpers/temp-dir.js'

// helm comes from scripts/install-helm.sh (.ci/run runs it); without it these skip locally.
const opts = { skip: helm.skip }
const plain = docs('deploy/kubernetes')

/** The chart's objects, and the pieces most tests look at. */
function rendered(set: string[] = []) {
  const all = renderChart(set)
  const deployment = kind(all, 'Deployment')
  const pod = deployment.spec.template
  return { all, deployment, pod, container: pod.spec.containers[0], service: kind(all, 'Service') }
}

test('helm lint passes on the chart', opts, () => {
  runHelm(['lint', '--strict', CHART])
})

test('values.schema.json is what npm run schema generates, config included', () => {
  const generated = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/helm-values-schema.ts'],
    { encoding: 'utf8' },
  )
  assert.equal(generated.status, 0, generated.stderr)
  assert.equal(readFileSync(`${CHART}/values.schema.json`, 'utf8'), generated.stdout)
})

test('a mistyped value fails helm lint, at the chart level and inside the config', opts, () => {
  const lint = (...set: string[]) =>
    spawnSync(helm.bin, ['lint', CHART, ...set.flatMap((s) => ['--set', s])], { encoding: 'utf8' })
  for (const [typo, says] of [
    ['replicaCont=3', "additional properties 'replicaCont' not allowed"],
    ['ports.grcp=9001', "at '/ports': additional properties 'grcp' not allowed"],
    ['service.type=Internal', "at '/service/type'"],
    ['config.routes[0].mach.prefix=/x', "at '/config/routes/0': additional properties 'mach'"],
    ['config.providers.idp.audience[0]=x', "additional properties 'audience' not allowed"],
  ]) {
    const res = lint(typo!)
    assert.notEqual(res.status, 0, `${typo} is refused`)
    assert.ok(`${res.stdout}${res.stderr}`.includes(says!), `${typo}: ${res.stdout}${res.stderr}`)
  }
  assert.equal(lint('replicaCount=3').status, 0, 'a right value passes')
})

test('the default release: its objects, no Secret, no Prometheus Operator objects', opts, () => {
  const { all } = rendered()
  const names = all.map((d) => `${d.kind}/${d.metadata.name}`).sort()
  assert.deepEqual(names, [
    'ConfigMap/jwt-ext-authz-config',
    'Deployment/jwt-ext-authz',
    'HorizontalPodAutoscaler/jwt-ext-authz',
    'NetworkPolicy/jwt-ext-authz',
    'PodDisruptionBudget/jwt-ext-authz',
    'Service/jwt-ext-authz',
    'ServiceAccount/jwt-ext-authz',
  ])
  for (const d of all) assert.equal(d.metadata.namespace, 'jwt-ext-authz')
})

test('the rendered config validates and is deploy/kubernetes config', opts, () => {
  const { all } = rendered()
  assert.deepEqual(configOf(kind(all, 'ConfigMap')), configOf(kind(plain, 'ConfigMap')))
})

test(
  'ports, probes and selectors agree across config, pod, Service, PDB, HPA, NetworkPolicy',
  opts,
  () => {
    const { all, deployment, pod, container, service } = rendered()
    const config = configOf(kind(all, 'ConfigMap'))
    const port = (name: string) => container.ports.find((p: Doc) => p.name === name)?.containerPort
    assert.equal(listenPort(config.listen.grpc), port('grpc'))
    assert.equal(listenPort(config.listen.http), port('http'))
    assert.equal(port('http-authz'), undefined)
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' })
    assert.deepEqual(container.livenessProbe.grpc, { port: port('grpc'), service: '' })
    assert.deepEqual(container.args, ['serve', '--config', '/etc/jwt-ext-authz/config.yaml'])
    const grpc = service.spec.ports.find((p: Doc) => p.name === 'grpc')
    assert.deepEqual([grpc.port, grpc.targetPort, grpc.appProtocol], [port('grpc'), 'grpc', 'grpc'])
    for (const selector of [
      deployment.spec.selector.matchLabels,
      service.spec.selector,
      kind(all, 'PodDisruptionBudget').spec.selector.matchLabels,
      kind(all, 'NetworkPolicy').spec.podSelector.matchLabels,
    ]) {
      selects(selector, pod.metadata.labels)
    }
    const hpa = kind(all, 'HorizontalPodAutoscaler')
    assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name)
    assert.ok(hpa.spec.minReplicas >= 2)
    assert.equal(deployment.spec.replicas, undefined, 'the HPA owns the replica count')
    assert.equal(pod.spec.automountServiceAccountToken, false)
    // deploy/istio and deploy/gateway-api call this Service by name.
    const istio = kind(docs('deploy/istio'), 'IstioOperator').spec.meshConfig.extensionProviders[0]
    assert.equal(istio.envoyExtAuthzGrpc.service, 'jwt-ext-authz.jwt-ext-authz.svc.cluster.local')
    assert.equal(istio.envoyExtAuthzGrpc.port, grpc.port)
  },
)

test(
  'provider keys come from the existing Secret, mounted where the config reads them',
  opts,
  () => {
    const { all, pod, container } = rendered(['providerKeys.existingSecret=llm-keys'])
    const volume = pod.spec.volumes.find((v: Doc) => v.secret)
    assert.equal(volume.secret.secretName, 'llm-keys')
    const mount = container.volumeMounts.find((m: Doc) => m.name === volume.name)
    const keys = Object.keys(kind(plain, 'Secret').stringData)
    for (const [name, source] of Object.entries(configOf(kind(all, 'ConfigMap')).secrets)) {
      assert.ok(source.file?.startsWith(`${mount.mountPath}/`), `${name} is read from the mount`)
      assert.ok(keys.includes(source.file!.slice(mount.mountPath.length + 1)), `${name}: a key`)
    }
    const values = parse(readFileSync(`${CHART}/values.yaml`, 'utf8'))
    assert.equal(values.providerKeys.existingSecret, kind(plain, 'Secret').metadata.name)
  },
)

test(
  'NetworkPolicy: the gateway reaches only the listening authorization ports, Prometheus only metrics',
  opts,
  () => {
    const byPorts = (set: string[]) => {
      const { all, container, service } = rendered(set)
      const [gateway, prometheus, ...rest] = kind(all, 'NetworkPolicy').spec.ingress as Doc[]
      assert.deepEqual(rest, [])
      for (const peer of [...gateway!.from, ...prometheus!.from]) {
        assert.ok(Object.keys(peer.podSelector.matchLabels).length > 0, 'never every pod')
      }
      assert.deepEqual(prometheus!.ports, [{ protocol: 'TCP', port: 9090 }])
      const config = configOf(kind(all, 'ConfigMap'))
      const containerPorts = container.ports.map((p: Doc) => p.containerPort)
      const servicePorts = service.spec.ports.map((p: Doc) => p.port)
      const allowed = gateway!.ports.map((p: Doc) => p.port)
      for (const p of allowed) assert.ok(containerPorts.includes(p) && servicePorts.includes(p))
      assert.equal(listenPort(config.listen.httpAuthz), allowed[1])
      return { gateway: gateway!, allowed }
    }
    const { gateway, allowed } = byPorts([])
    assert.deepEqual(allowed, [9001])
    assert.deepEqual(gateway.from, kind(plain, 'NetworkPolicy').spec.ingress[0].from)
    assert.deepEqual(byPorts(['ports.httpAuthz=9002']).allowed, [9001, 9002])
    const { all } = rendered(['networkPolicy.enabled=false'])
    assert.deepEqual(kinds(all, 'NetworkPolicy'), [])
  },
)

test(
  'ServiceMonitor and PrometheusRule behind their toggles, with the rules of files/',
  opts,
  () => {
    const { all, service } = rendered([
      'serviceMonitor.enabled=true',
      'prometheusRule.enabled=true',
      'prometheusRule.labels.release=kube-prometheus-stack',
    ])
    const monitor = kind(all, 'ServiceMonitor')
    selects(monitor.spec.selector.matchLabels, service.metadata.labels)
    assert.deepEqual(monitor.spec.namespaceSelector.matchNames, [service.metadata.namespace])
    const metricsPort = service.spec.ports.find((p: Doc) => p.port === 9090)
    assert.deepEqual(
      monitor.spec.endpoints.map((e: Doc) => [e.port, e.path]),
      [[metricsPort.name, '/metrics']],
    )
    const rule = kind(all, 'PrometheusRule')
    assert.equal(rule.metadata.labels.release, 'kube-prometheus-stack')
    const source = parse(readFileSync(`${CHART}/files/alerts.rules.yaml`, 'utf8'))
    assert.deepEqual(rule.spec.groups, source.groups)
    // Helm must not have expanded Prometheus's own templates.
    assert.ok(JSON.stringify(rule.spec).includes('{{ $labels.provider }}'))
  },
)

test('a values file swaps the placeholder IdP for its own provider and routes', opts, () => {
  const dir = tempDir('helm-values')
  try {
    const file = join(dir, 'values.yaml')
    writeFileSync(
      file,
      [
        'config:',
        '  providers:',
        '    idp: null',
        '    keycloak:',
        '      issuer: https://sso.internal/realms/ai',
        '      audiences: [gateway]',
        '      jwks: { oidc: { issuerUrl: https://sso.internal/realms/ai } }',
        '  routes:',
        '    - { name: chat, match: { prefix: /v1 }, providers: [keycloak] }',
      ].join('\n'),
    )
    const config = configOf(kind(renderChart([], [file]), 'ConfigMap'))
    assert.deepEqual(Object.keys(config.providers), ['keycloak'])
    assert.deepEqual(
      config.routes.map((r) => r.name),
      ['chat'],
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test(
  'mTLS: the TLS Secret is mounted where listen.tls reads it, and liveness leaves gRPC',
  opts,
  () => {
    const spiffe = 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'
    const { all, pod, container } = rendered([
      'tls.existingSecret=gateway-mtls',
      `tls.allowedSans[0]=${spiffe}`,
    ])
    const tls = configOf(kind(all, 'ConfigMap')).listen.tls!
    assert.deepEqual(tls.allowedSans, [spiffe])
    const volume = pod.spec.volumes.find((v: Doc) => v.secret?.secretName === 'gateway-mtls')
    const mount = container.volumeMounts.find((m: Doc) => m.name === volume.name)
    // cert-manager's key names, so its Certificate Secret mounts as it is.
    assert.deepEqual(
      [tls.cert, tls.key, tls.clientCa],
      ['tls.crt', 'tls.key', 'ca.crt'].map((f) => `${mount.mountPath}/${f}`),
    )
    // kubelet's gRPC probe has no TLS: it would fail the handshake and restart the pod.
    assert.equal(container.livenessProbe.grpc, undefined)
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'http' })
    assert.equal(configOf(kind(rendered().all, 'ConfigMap')).listen.tls, undefined)
  },
)

test('an existing ConfigMap replaces the rendered one', opts, () => {
  const { all, pod } = rendered(['existingConfigMap=my-config', 'existingConfigMapKey=prod.yaml'])
  assert.deepEqual(kinds(all, 'ConfigMap'), [])
  const volume = pod.spec.volumes.find((v: Doc) => v.configMap)
  assert.deepEqual(volume.configMap, {
    name: 'my-config',
    items: [{ key: 'prod.yaml', path: 'config.yaml' }],
  })
})

test(
  'helm refuses a release without the keys Secret or with a listen block in config',
  opts,
  () => {
    const fails = (set: string) => {
      const res = spawnSync(helm.bin, ['template', 'x', CHART, '--set', set], { encoding: 'utf8' })
      assert.notEqual(res.status, 0)
      return res.stderr
    }
    assert.match(fails('providerKeys.existingSecret='), /providerKeys\.existingSecret/)
    assert.match(fails('config.listen.grpc=0.0.0.0:1'), /config\.listen is set from ports/)
  },
)
