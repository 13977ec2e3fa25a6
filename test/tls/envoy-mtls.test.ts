import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { parse, stringify } from 'yaml'
import { envoySkip, validateEnvoyConfig } from '../helpers/envoy.js'
import {
  startEnvoyGateway,
  type EnvoyBootstrap,
  type EnvoyGateway,
} from '../helpers/envoy-gateway.js'
import { seedScenarios } from '../helpers/envoy-seeds.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { GATEWAY_ID, checksAnswered, generateCerts, writeConfig } from './tls-fixtures.js'

// The real Envoy 1.40 with envoy/cluster-mtls.yaml in place of envoy/envoy.yaml's
// jwt_ext_authz cluster, in front of a real `serve` that requires the gateway's certificate.
const skip = envoySkip()
const certs = generateCerts()
after(() => certs.remove())
const config = writeConfig(certs.dir, {
  tls: { cert: 'server.crt', key: 'server.key', clientCa: 'ca.crt', allowedSans: [GATEWAY_ID] },
})
const snippet = parse(readFileSync('envoy/cluster-mtls.yaml', 'utf8'))

/** Swaps in the shipped snippet, its files pointed at this run's certificates. */
function useMtlsCluster(clientCert: string | undefined) {
  return (bootstrap: EnvoyBootstrap): string => {
    const clusters = bootstrap.static_resources.clusters
    const at = clusters.findIndex((c: { name: string }) => c.name === 'jwt_ext_authz')
    const cluster = structuredClone(snippet)
    const tls = cluster.transport_socket.typed_config.common_tls_context
    tls.validation_context.trusted_ca.filename = join(certs.dir, 'ca.crt')
    if (clientCert === undefined) delete tls.tls_certificates
    else {
      tls.tls_certificates[0].certificate_chain.filename = join(certs.dir, `${clientCert}.crt`)
      tls.tls_certificates[0].private_key.filename = join(certs.dir, `${clientCert}.key`)
    }
    // The endpoint the harness already pointed at our serve process.
    cluster.load_assignment = clusters[at].load_assignment
    clusters[at] = cluster
    // The first Check opens the TLS connection and meets a cold server: on a loaded machine
    // that outlasts the shipped timeout, and a timeout would also answer 403 in the tests below.
    const filters = bootstrap.static_resources.listeners[0].filter_chains[0].filters
    const grpc = filters[0].typed_config.http_filters[0].typed_config.grpc_service
    const shippedTimeout = grpc.timeout
    grpc.timeout = '10s'
    return `clusters[jwt_ext_authz]: envoy/cluster-mtls.yaml, ${clientCert ?? 'no'} client certificate; ext_authz timeout ${shippedTimeout} -> 10s`
  }
}

test('envoy/cluster-mtls.yaml is envoy/envoy.yaml’s jwt_ext_authz cluster plus its TLS', () => {
  const shipped = parse(readFileSync('envoy/envoy.yaml', 'utf8')).static_resources.clusters.find(
    (c: { name: string }) => c.name === 'jwt_ext_authz',
  )
  const { transport_socket: tls, ...rest } = snippet
  assert.deepEqual(rest, shipped)
  assert.equal(tls.typed_config.sni, 'jwt-ext-authz')
  assert.deepEqual(tls.typed_config.common_tls_context.alpn_protocols, ['h2'])
})

test('envoy --mode validate accepts envoy/envoy.yaml with the mTLS cluster', { skip }, (t) => {
  const bootstrap = parse(readFileSync('envoy/envoy.yaml', 'utf8'))
  t.diagnostic(useMtlsCluster('client')(bootstrap))
  const file = join(certs.dir, 'envoy-mtls.yaml')
  writeFileSync(file, stringify(bootstrap))
  const { ok, output } = validateEnvoyConfig(file)
  assert.ok(ok, output)
})

seedScenarios('envoy/envoy.yaml + envoy/cluster-mtls.yaml (gateway certificate)', {
  envoyFile: 'envoy/envoy.yaml',
  config,
  adjust: useMtlsCluster('client'),
})

describe('Envoy with the gateway certificate', { skip }, () => {
  let gw: EnvoyGateway
  before(async () => {
    gw = await startEnvoyGateway({
      envoyFile: 'envoy/envoy.yaml',
      config,
      adjust: useMtlsCluster('client'),
    })
  })
  after(() => gw?.stop())

  test('its gRPC health check passes over the same mutual TLS', async () => {
    await gw.envoy.waitForHealth('jwt_ext_authz', true)
    assert.ok(((await gw.envoy.stat('cluster.jwt_ext_authz.health_check.success')) ?? 0) >= 1)
  })
})

for (const [label, clientCert] of [
  ['without a client certificate', undefined],
  ['with a certificate of our CA whose SAN is not allowed', 'client-stranger'],
] as const) {
  describe(`Envoy ${label}`, { skip }, () => {
    let gw: EnvoyGateway
    before(async () => {
      gw = await startEnvoyGateway({
        envoyFile: 'envoy/envoy.yaml',
        config,
        adjust: useMtlsCluster(clientCert),
      })
    })
    after(() => gw?.stop())

    test('answers its status_on_error (403), nothing reaches the upstream, no Check runs', async () => {
      const res = await gw.request('/openai/v1/chat/completions', 'POST', {
        'content-type': 'application/json',
        authorization: `Bearer ${ALICE_TOKEN}`,
      })
      assert.equal(res.status, 403)
      assert.equal(res.headers.authorization, undefined)
      assert.ok(((await gw.envoy.stat('http.llm_ingress.ext_authz.error')) ?? 0) >= 1)
      // Envoy has answered: the request was refused locally, never forwarded.
      assert.equal(gw.echo.seen.length, 0)
      assert.equal(await checksAnswered(gw.service), 0)
    })

    test('its gRPC health check fails: the host is marked unhealthy', async () => {
      await gw.envoy.waitForHealth('jwt_ext_authz', false)
    })
  })
}
