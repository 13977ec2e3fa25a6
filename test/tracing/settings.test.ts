import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validateConfig } from '../../src/config/validate.js'
import type { TracingConfig } from '../../src/config/schema.js'
import { chooseTracing } from '../../src/tracing/settings.js'

function tracingBlock(block: unknown): TracingConfig {
  const result = validateConfig({
    ...(block === undefined ? {} : { tracing: block }),
    routes: [{ name: 'r', match: { prefix: '/' }, allowAnonymous: true }],
  })
  if (!result.ok) assert.fail(JSON.stringify(result.errors))
  return result.config.tracing
}

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }

test('off by default: no block, no OTEL_* variable', () => {
  const choice = chooseTracing(tracingBlock(undefined), {})
  assert.equal(choice.on, false)
})

test('OTEL_EXPORTER_OTLP_ENDPOINT (or the traces one) alone turns OTLP/HTTP protobuf export on', () => {
  for (const env of [
    ENDPOINT,
    { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' },
  ]) {
    const choice = chooseTracing(tracingBlock(undefined), env)
    assert.ok(choice.on)
    assert.equal(choice.settings.protocol, 'http/protobuf')
    // Left to the exporter, which reads the variables as the SDK defines them.
    assert.equal(choice.settings.endpoint, undefined)
    assert.equal(choice.settings.recordSub, false)
  }
})

test('OTEL_TRACES_EXPORTER: otlp turns it on, none keeps it off, others are not built in', () => {
  assert.equal(chooseTracing(tracingBlock(undefined), { OTEL_TRACES_EXPORTER: 'otlp' }).on, true)
  assert.equal(
    chooseTracing(tracingBlock(undefined), { ...ENDPOINT, OTEL_TRACES_EXPORTER: 'none' }).on,
    false,
  )
  const zipkin = chooseTracing(tracingBlock(undefined), {
    ...ENDPOINT,
    OTEL_TRACES_EXPORTER: 'zipkin',
  })
  assert.equal(zipkin.on, false)
  assert.match(zipkin.on ? '' : zipkin.why, /only otlp/)
})

test('OTEL_SDK_DISABLED=true wins over everything, tracing.enabled included', () => {
  const choice = chooseTracing(tracingBlock({ enabled: true }), {
    ...ENDPOINT,
    OTEL_SDK_DISABLED: 'TRUE',
  })
  assert.equal(choice.on, false)
  assert.equal(choice.on ? '' : choice.why, 'OTEL_SDK_DISABLED=true')
})

test('tracing.enabled decides over the variables, both ways', () => {
  assert.equal(chooseTracing(tracingBlock({ enabled: false }), ENDPOINT).on, false)
  assert.equal(
    chooseTracing(tracingBlock({ enabled: true }), { OTEL_TRACES_EXPORTER: 'none' }).on,
    true,
  )
})

test('a key of the block wins over its OTEL_* variable; unset keys fall back to them', () => {
  const env = {
    ...ENDPOINT,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'from-env',
  }
  const set = chooseTracing(
    tracingBlock({
      endpoint: 'http://jaeger:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'from-config',
      sampleRatio: 0.25,
      attributes: { sub: true },
    }),
    env,
  )
  assert.ok(set.on)
  assert.deepEqual(set.settings, {
    endpoint: 'http://jaeger:4318/v1/traces',
    protocol: 'http/protobuf',
    serviceName: 'from-config',
    sampleRatio: 0.25,
    recordSub: true,
  })
  const unset = chooseTracing(tracingBlock({}), env)
  assert.ok(unset.on)
  assert.equal(unset.settings.protocol, 'http/json')
  assert.equal(unset.settings.serviceName, undefined, 'OTEL_SERVICE_NAME applies, via the resource')
  assert.equal(unset.settings.sampleRatio, undefined, 'OTEL_TRACES_SAMPLER applies')
})

test('the traces protocol variable wins over the general one; grpc is refused, unknown warned', () => {
  const specific = chooseTracing(tracingBlock({ enabled: true }), {
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
  })
  assert.ok(specific.on)
  assert.equal(specific.settings.protocol, 'http/json')
  const grpc = chooseTracing(tracingBlock({ enabled: true }), {
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
  })
  assert.equal(grpc.on, false)
  assert.match(grpc.on ? '' : grpc.why, /gRPC is not supported/)
  const odd = chooseTracing(tracingBlock({ enabled: true }), {
    OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift',
  })
  assert.ok(odd.on)
  assert.equal(odd.settings.protocol, 'http/protobuf')
  assert.equal(odd.warnings.length, 1)
})

test('the block is validated like every other: unknown keys and bad values name their path', () => {
  for (const [block, path] of [
    [{ enable: true }, 'tracing'],
    [{ sampleRatio: 2 }, 'tracing.sampleRatio'],
    [{ protocol: 'grpc' }, 'tracing.protocol'],
    [{ endpoint: 'collector:4318' }, 'tracing.endpoint'],
    [{ attributes: { email: true } }, 'tracing.attributes'],
  ] as const) {
    const result = validateConfig({
      tracing: block,
      routes: [{ name: 'r', match: { prefix: '/' }, allowAnonymous: true }],
    })
    assert.equal(result.ok, false, JSON.stringify(block))
    if (!result.ok)
      assert.ok(
        result.errors.some((e) => e.path.startsWith(path)),
        `${JSON.stringify(block)}: ${JSON.stringify(result.errors)}`,
      )
  }
})
