import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parse } from 'yaml'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'
import { ENVOY_PREFIX } from '../../src/http-authz/original-request.js'
import { checkProtoJson, loadOfficialProtos } from '../helpers/proto-json.js'

// Every proto whose message an `@type` in envoy/envoy.yaml names, plus the bootstrap.
const root = loadOfficialProtos([
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/config/trace/v3/opentelemetry.proto',
])
const envoy = parse(readFileSync('envoy/envoy.yaml', 'utf8'))

test('envoy/envoy.yaml is a valid envoy.config.bootstrap.v3.Bootstrap, every typed_config resolved', () => {
  assert.deepEqual(checkProtoJson(root, 'envoy.config.bootstrap.v3.Bootstrap', envoy), [])
})

test('the checker itself refuses unknown fields, bad enums, unknown @types and double oneofs', () => {
  const broken = structuredClone(envoy)
  const hcm = broken.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  hcm.http_filters[0].typed_config.failure_mode_alow = false
  hcm.http_filters[0].typed_config.transport_api_version = 'V4'
  hcm.http_filters[1].typed_config['@type'] =
    'type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope'
  hcm.route_config.virtual_hosts[0].routes[0].match.prefix = '/openai'
  const errors = checkProtoJson(root, 'envoy.config.bootstrap.v3.Bootstrap', broken)
  assert.equal(errors.length, 4, errors.join('\n'))
  assert.match(
    errors.join('\n'),
    /failure_mode_alow: unknown field of envoy\.extensions\.filters\.http\.ext_authz\.v3\.ExtAuthz/,
  )
  assert.match(errors.join('\n'), /transport_api_version: expected one of/)
  assert.match(
    errors.join('\n'),
    /@type envoy\.extensions\.filters\.http\.nope\.v3\.Nope is not a known message/,
  )
  assert.match(errors.join('\n'), /match\.prefix: oneof path_specifier already set by path/)
})

test('ext_authz is wired as the issue asks: gRPC V3, fail closed, bounded body, HTTP/2 cluster with gRPC health checks', () => {
  const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  const authz = hcm.http_filters[0].typed_config
  assert.equal(hcm.http_filters[0].name, 'envoy.filters.http.ext_authz')
  assert.equal(authz.transport_api_version, 'V3')
  assert.equal(authz.failure_mode_allow, false)
  assert.equal(authz.with_request_body.allow_partial_message, true)
  assert.ok(authz.with_request_body.max_request_bytes > 0)
  assert.equal(envoy.static_resources.listeners[0].address.socket_address.port_value, 8080)
  const cluster = envoy.static_resources.clusters.find(
    (c: { name: string }) => c.name === authz.grpc_service.envoy_grpc.cluster_name,
  )
  assert.ok(
    cluster.typed_extension_protocol_options[
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
    ].explicit_http_config.http2_protocol_options,
  )
  assert.ok(cluster.health_checks[0].grpc_health_check)
  const routes = hcm.route_config.virtual_hosts[0].routes
  assert.deepEqual(
    routes.map(
      (r: { match: { prefix?: string; path?: string } }) => r.match.prefix ?? r.match.path,
    ),
    ['/openai', '/openai/', '/mistralai', '/mistralai/', '/huggingface-gloo-gw', '/llm-d/'],
  )
  for (const r of routes) {
    assert.ok(
      r.typed_per_filter_config['envoy.filters.http.ext_authz'].check_settings.context_extensions
        .route,
      'each route names itself',
    )
  }
  assert.match(
    JSON.stringify(hcm.access_log),
    /DYNAMIC_METADATA\(envoy\.filters\.http\.ext_authz\)/,
  )
})

const envoyHttp = parse(readFileSync('envoy/envoy-http.yaml', 'utf8'))

/**
 * Fields newer than the proto snapshot in @grpc/grpc-js-xds: Envoy 1.40 accepts them (`envoy
 * --mode validate`, test/envoy/validate.test.ts) and was seen to honour them
 * (test/envoy/zero-downtime.test.ts retries http_service checks).
 */
const NEWER_THAN_SNAPSHOT = [
  /\.http_service\.retry_policy: unknown field of envoy\.extensions\.filters\.http\.ext_authz\.v3\.HttpService$/,
]

test('envoy/envoy-http.yaml is a valid Bootstrap too, ext_authz over http_service', () => {
  const errors = checkProtoJson(root, 'envoy.config.bootstrap.v3.Bootstrap', envoyHttp)
  assert.deepEqual(
    errors.filter((e) => !NEWER_THAN_SNAPSHOT.some((newer) => newer.test(e))),
    [],
  )
})

test('envoy-http.yaml calls our HTTP listener the way it reads requests, fail closed', () => {
  const hcm = envoyHttp.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  const authz = hcm.http_filters[0].typed_config
  assert.equal(authz.failure_mode_allow, false)
  assert.equal(authz.grpc_service, undefined)
  const http = authz.http_service
  assert.equal(http.path_prefix, ENVOY_PREFIX)
  const cluster = envoyHttp.static_resources.clusters.find(
    (c: { name: string }) => c.name === http.server_uri.cluster,
  )
  const port =
    cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value
  const configured = validateConfig(
    parseConfigText(readFileSync('examples/llm-gateway.yaml', 'utf8')),
  )
  assert.ok(configured.ok)
  assert.equal(`:${port}`, configured.config.listen.httpAuthz.slice(-5))
  assert.equal(new URL(http.server_uri.uri).port, String(port))
  // Every header a route of the example sets upstream must be one Envoy copies, or the
  // provider key would be dropped on the way.
  const copied = new Set(
    http.authorization_response.allowed_upstream_headers.patterns.map(
      (p: { exact: string }) => p.exact,
    ),
  )
  const model = validateConfig(parseConfigText(readFileSync('examples/model-aware.yaml', 'utf8')))
  assert.ok(model.ok)
  for (const route of [...configured.config.routes, ...model.config.routes]) {
    for (const name of Object.keys(route.upstream.headers)) {
      assert.ok(
        copied.has(name.toLowerCase()),
        `${route.name}: ${name} is not in allowed_upstream_headers`,
      )
    }
  }
  const toClient = http.authorization_response.allowed_client_headers.patterns.map(
    (p: { exact: string }) => p.exact,
  )
  assert.deepEqual(toClient.sort(), ['content-type', 'www-authenticate'])
  // Envoy applies check_settings.context_extensions to a grpc_service only (ext_authz.proto):
  // any here would be dead config, and a route matching on them would never match.
  assert.doesNotMatch(JSON.stringify(envoyHttp), /context_extensions/)
  for (const route of configured.config.routes)
    assert.equal(route.match.contextExtensions, undefined)
})
