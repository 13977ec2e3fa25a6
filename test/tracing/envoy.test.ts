import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startEnvoyGateway, type EnvoyBootstrap } from '../helpers/envoy-gateway.js'
import { envoySkip } from '../helpers/envoy.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import { startOtlpReceiver, SPAN_KIND, type ReceivedSpan } from '../helpers/otlp-receiver.js'
import { FAST_EXPORT } from './tracing-config.js'

/*
 * One trace from Envoy through our decision, through the real Envoy: Envoy's OpenTelemetry
 * tracer and our `serve` export to the same OTLP receiver; our Check span must share Envoy's
 * trace id and have Envoy's ext_authz call span as its parent.
 */

const skip = envoySkip()

/** Our span for the Check of the request Envoy traced, and the Envoy span that is its parent. */
async function joinedTrace(
  receiver: Awaited<ReturnType<typeof startOtlpReceiver>>,
  ourName: string,
  decision: 'allow' | 'deny',
): Promise<{ ours: ReceivedSpan; parent: ReceivedSpan; ingress: ReceivedSpan }> {
  const ours = await receiver.waitFor(
    (s) =>
      s.service === 'jwt-ext-authz' &&
      s.name === ourName &&
      s.attributes['ext_authz.decision'] === decision &&
      s.parentSpanId !== '',
  )
  const parent = await receiver.waitFor((s) => s.spanId === ours.parentSpanId)
  const ingress = await receiver.waitFor(
    (s) => s.traceId === ours.traceId && s.service === 'envoy' && s.kind === SPAN_KIND.SERVER,
  )
  return { ours, parent, ingress }
}

test(
  'gRPC ext_authz (envoy/envoy.yaml as shipped): our Check span is the child of Envoy’s ext_authz span',
  { skip },
  async (t) => {
    const receiver = await startOtlpReceiver()
    t.after(() => receiver.close())
    const gateway = await startEnvoyGateway({
      envoyFile: 'envoy/envoy.yaml',
      traces: new URL(receiver.url).host,
      env: { ...FAST_EXPORT, OTEL_EXPORTER_OTLP_ENDPOINT: new URL(receiver.url).origin },
    })
    t.after(() => gateway.stop())
    t.diagnostic(`changes to envoy/envoy.yaml: ${gateway.changes.join('; ')}`)
    const res = await gateway.request(
      '/openai/v1/chat/completions',
      'POST',
      {
        authorization: `Bearer ${ALICE_TOKEN}`,
        'content-type': 'application/json',
      },
      '{"model":"gpt-3.5-turbo"}',
    )
    assert.equal(res.status, 200)
    const { ours, parent, ingress } = await joinedTrace(
      receiver,
      'envoy.service.auth.v3.Authorization/Check',
      'allow',
    )
    t.diagnostic(`Envoy's parent span: "${parent.name}" (kind ${parent.kind})`)
    assert.equal(ours.traceId, parent.traceId)
    assert.equal(ours.traceId, ingress.traceId)
    assert.equal(ours.kind, SPAN_KIND.SERVER)
    assert.equal(parent.service, 'envoy')
    assert.equal(parent.kind, SPAN_KIND.CLIENT)
    assert.match(parent.name, /envoy\.service\.auth\.v3\.Authorization/)
    assert.equal(
      parent.parentSpanId,
      ingress.spanId,
      'the ext_authz call is a child of the request',
    )
    assert.equal(ours.attributes['ext_authz.route'], 'openai')
  },
)

/** envoy-http.yaml ships no tracing: the same tracer block, added for this test only. */
function traceTo(receiverUrl: string) {
  return (bootstrap: EnvoyBootstrap): string => {
    const { host, port } = new URL(receiverUrl)
    const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
    hcm.tracing = {
      provider: {
        name: 'envoy.tracers.opentelemetry',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
          service_name: 'envoy',
          http_service: { http_uri: { uri: receiverUrl, cluster: 'otlp', timeout: '1s' } },
        },
      },
    }
    bootstrap.static_resources.clusters.push({
      name: 'otlp',
      type: 'STATIC',
      connect_timeout: '1s',
      load_assignment: {
        cluster_name: 'otlp',
        endpoints: [
          {
            lb_endpoints: [
              {
                endpoint: {
                  address: {
                    socket_address: { address: host.split(':')[0], port_value: Number(port) },
                  },
                },
              },
            ],
          },
        ],
      },
    })
    return `added the OpenTelemetry tracer, exporting to ${receiverUrl}`
  }
}

test(
  'http_service ext_authz (envoy/envoy-http.yaml): our span continues the traceparent Envoy sends us',
  { skip },
  async (t) => {
    const receiver = await startOtlpReceiver()
    t.after(() => receiver.close())
    const gateway = await startEnvoyGateway({
      envoyFile: 'envoy/envoy-http.yaml',
      env: { ...FAST_EXPORT, OTEL_EXPORTER_OTLP_ENDPOINT: new URL(receiver.url).origin },
      adjust: traceTo(receiver.url),
    })
    t.after(() => gateway.stop())
    const res = await gateway.request('/openai/v1/chat/completions', 'POST', {
      authorization: `Bearer ${BOB_TOKEN}`,
    })
    assert.equal(res.status, 403)
    const { ours, parent, ingress } = await joinedTrace(receiver, 'ext_authz check', 'deny')
    t.diagnostic(`Envoy's parent span: "${parent.name}" (kind ${parent.kind})`)
    assert.equal(ours.traceId, ingress.traceId)
    assert.equal(parent.service, 'envoy')
    assert.equal(parent.kind, SPAN_KIND.CLIENT)
    assert.equal(parent.parentSpanId, ingress.spanId)
    assert.equal(ours.attributes['ext_authz.adapter'], 'envoy_http')
    assert.equal(ours.attributes['ext_authz.deny_reason'], 'rbac_denied')
  },
)
