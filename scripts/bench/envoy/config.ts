// The Envoy configuration of each set-up of `npm run bench:envoy`: one listener on loopback,
// `/openai` answered by Envoy itself (direct_response: the cheapest upstream there is), and a
// side route for the sampled requests (header x-bench-sample) to the echo upstream, so the bench
// can see what an upstream receives. Only the authorization filter differs between set-ups.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

/** What stands between the listener and the router. */
export type Guard =
  | { readonly kind: 'none' }
  | { readonly kind: 'jwt_authn'; readonly jwks: string; readonly issuer: string }
  | { readonly kind: 'ext_authz'; readonly port: number }
  /** Envoy's ext_authz over HTTP/1.1 (`http_service`) to our HTTP authorization listener. */
  | { readonly kind: 'ext_authz_http'; readonly port: number }

export interface EnvoySetup {
  readonly guard: Guard
  readonly echoPort: number
  /** Set by Envoy's route (request_headers_to_add) where the authorizer cannot set it itself. */
  readonly routeKey?: string
}

const T = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  extAuthzPerRoute:
    'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute',
  jwtAuthn: 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
  rbac: 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
  http: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  buffer: 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer',
}

const loopback = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } })

function cluster(name: string, port: number, http2: boolean): object {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    ...(http2 && {
      // gRPC needs HTTP/2 to this cluster (envoy#19246).
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': T.http,
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
    }),
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: loopback(port) } }] }],
    },
  }
}

/**
 * ext_authz exactly as envoy/envoy.yaml ships it (timeout, retry policy, failure_mode_allow,
 * request body), read from that file so the bench follows it; only the cluster is ours.
 */
function extAuthz(): object {
  const filter = shippedExtAuthz('envoy/envoy.yaml')
  filter.typed_config.grpc_service.envoy_grpc = { cluster_name: 'authz' }
  return filter
}

/** The same for the HTTP mode, as envoy/envoy-http.yaml ships it (http_service). */
function extAuthzHttp(port: number): object {
  const filter = shippedExtAuthz('envoy/envoy-http.yaml')
  filter.typed_config.http_service.server_uri = {
    ...filter.typed_config.http_service.server_uri,
    uri: `http://127.0.0.1:${port}`,
    cluster: 'authz',
  }
  return filter
}

/** The ext_authz filter of a shipped Envoy config (YAML, so untyped). */
function shippedExtAuthz(file: string) {
  const shipped = parse(readFileSync(file, 'utf8'))
  const hcm = shipped.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  return hcm.http_filters.find((f: { name: string }) => f.name === 'envoy.filters.http.ext_authz')
}

/**
 * Reads the whole request body before the route answers. Without it, Envoy's direct_response
 * answers a POST before reading its body and then cannot keep the connection alive: an
 * open-loop client reconnected for nearly every request (Envoy alone at 3,000 req/s achieved
 * ~550 req/s at 80 ms). ext_authz with_request_body reads the body anyway.
 */
const BUFFER = {
  name: 'envoy.filters.http.buffer',
  typed_config: { '@type': T.buffer, max_request_bytes: 65536 },
}

/**
 * Envoy's own JWT filter with the seed provider: the token verified against the JWKS (Envoy
 * reads no PEM), removed (`forward: false`), `sub` copied to x-user-id, and the payload put in
 * dynamic metadata for RBAC.
 */
function jwtAuthn(jwks: string, issuer: string): object {
  return {
    name: 'envoy.filters.http.jwt_authn',
    typed_config: {
      '@type': T.jwtAuthn,
      providers: {
        solo: {
          issuer,
          local_jwks: { inline_string: jwks },
          forward: false,
          payload_in_metadata: 'jwt_payload',
          claim_to_headers: [{ header_name: 'x-user-id', claim_name: 'sub' }],
          // Envoy's token cache is off unless configured (100 tokens per worker by default).
          jwt_cache_config: {},
        },
      },
      rules: [{ match: { prefix: '/openai' }, requires: { provider_name: 'solo' } }],
    },
  }
}

/**
 * The seed rule in Envoy's RBAC: a metadata principal reads `llms.openai` from the payload
 * jwt_authn put in dynamic metadata, where a claim that is a list is a ListValue, and matches
 * it with a ListMatcher (one of its values is exactly gpt-3.5-turbo).
 */
function rbac(): object {
  const llmsOpenai = {
    filter: 'envoy.filters.http.jwt_authn',
    path: [{ key: 'jwt_payload' }, { key: 'llms' }, { key: 'openai' }],
    value: { list_match: { one_of: { string_match: { exact: 'gpt-3.5-turbo' } } } },
  }
  const viewer = {
    permissions: [{ url_path: { path: { prefix: '/openai' } } }],
    principals: [{ metadata: llmsOpenai }],
  }
  return {
    name: 'envoy.filters.http.rbac',
    typed_config: { '@type': T.rbac, rules: { action: 'ALLOW', policies: { viewer } } },
  }
}

function filters(guard: Guard): object[] {
  if (guard.kind === 'jwt_authn') return [BUFFER, jwtAuthn(guard.jwks, guard.issuer), rbac()]
  if (guard.kind === 'ext_authz') return [extAuthz()]
  if (guard.kind === 'ext_authz_http') return [extAuthzHttp(guard.port)]
  return [BUFFER]
}

function routes(setup: EnvoySetup): object[] {
  const perRoute = setup.guard.kind.startsWith('ext_authz') && {
    typed_per_filter_config: {
      'envoy.filters.http.ext_authz': {
        '@type': T.extAuthzPerRoute,
        check_settings: { context_extensions: { route: 'openai' } },
      },
    },
  }
  const key = setup.routeKey !== undefined && {
    request_headers_to_add: [
      {
        header: { key: 'authorization', value: `Bearer ${setup.routeKey}` },
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
      },
    ],
  }
  return [
    {
      match: { prefix: '/openai', headers: [{ name: 'x-bench-sample', present_match: true }] },
      route: { cluster: 'echo', timeout: '5s' },
      ...perRoute,
      ...key,
    },
    {
      match: { prefix: '/openai' },
      direct_response: { status: 200, body: { inline_string: '{"ok":true}' } },
      ...perRoute,
    },
  ]
}

/** The HTTP connection manager: path handling as envoy/envoy.yaml ships it, no access log. */
function httpConnectionManager(setup: EnvoySetup): object {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': T.hcm,
      stat_prefix: 'bench',
      normalize_path: true,
      merge_slashes: true,
      path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT',
      route_config: {
        name: 'bench',
        virtual_hosts: [{ name: 'llm', domains: ['*'], routes: routes(setup) }],
      },
      http_filters: [
        ...filters(setup.guard),
        { name: 'envoy.filters.http.router', typed_config: { '@type': T.router } },
      ],
    },
  }
}

/** The whole bootstrap, as JSON (which Envoy reads as YAML). */
export function envoyConfig(setup: EnvoySetup): string {
  const clusters = [cluster('echo', setup.echoPort, false)]
  if (setup.guard.kind === 'ext_authz') clusters.push(cluster('authz', setup.guard.port, true))
  if (setup.guard.kind === 'ext_authz_http')
    clusters.push(cluster('authz', setup.guard.port, false))
  return JSON.stringify({
    admin: { address: loopback(0) },
    static_resources: {
      listeners: [
        {
          name: 'bench',
          address: loopback(0),
          filter_chains: [{ filters: [httpConnectionManager(setup)] }],
        },
      ],
      clusters,
    },
  })
}
