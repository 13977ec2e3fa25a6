/**
 * Span names and attribute keys. RPC keys follow the current OpenTelemetry RPC conventions
 * (`rpc.system.name`, a fully qualified `rpc.method`), written here rather than imported from
 * the package's unstable `incubating` entry point, as the package advises. Ours are
 * `ext_authz.*`. Values are config names, the closed deny-reason set and booleans: never a
 * token, a secret, a header value, a path or a claim (`user.id` only when configured).
 */
export const CHECK_RPC_METHOD = 'envoy.service.auth.v3.Authorization/Check'
/** The gRPC span is named for the RPC, as the conventions say: `{package.service}/{method}`. */
export const GRPC_CHECK_SPAN = CHECK_RPC_METHOD
/** The HTTP adapter's span: one name for Envoy `http_service` and forward-auth alike. */
export const HTTP_CHECK_SPAN = 'ext_authz check'
/** A Check waiting on its provider's JWKS (re)fetch. */
export const KEY_WAIT_SPAN = 'jwks fetch'

export const ATTR = Object.freeze({
  rpcSystem: 'rpc.system.name',
  rpcMethod: 'rpc.method',
  rpcStatus: 'rpc.response.status_code',
  userId: 'user.id',
  adapter: 'ext_authz.adapter',
  route: 'ext_authz.route',
  decision: 'ext_authz.decision',
  denyReason: 'ext_authz.deny_reason',
  deniedStatus: 'ext_authz.denied_status',
  provider: 'ext_authz.provider',
  /** The id of the provider key injected (config-given), never the key. */
  keyId: 'ext_authz.key_id',
  /** The config that made the decision (engine/revision.ts). */
  configRevision: 'ext_authz.config_revision',
  tokenCacheHit: 'ext_authz.token_cache.hit',
  jwksJoined: 'ext_authz.jwks.joined',
  jwksOutcome: 'ext_authz.jwks.outcome',
})
