import { status } from '@grpc/grpc-js'
import type { Allow, Deny, Decision } from '../decision/decision.js'
import { DENY, type DenySpec } from '../decision/deny.js'
import type { Explanation } from '../rbac/authorize.js'
import type { CheckResponse, HeaderValueOption } from '../proto/types.js'
import { toStruct } from '../proto/struct.js'
import type { AuthRequest } from '../request/auth-request.js'

/** envoy.config.core.v3.HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD */
const OVERWRITE_IF_EXISTS_OR_ADD = 2
/** A realm longer than this is cut: it only names where the client was going. */
const MAX_REALM_LENGTH = 256
const TEXT_PLAIN: HeaderValueOption = header('content-type', 'text/plain')
const APPLICATION_JSON: HeaderValueOption = header('content-type', 'application/json')

/** Maps a decision to Envoy's CheckResponse; every deny, 401 included, in `denied_response`. */
export function toCheckResponse(decision: Decision, req: AuthRequest): CheckResponse {
  return decision.kind === 'allow' ? okResponse(decision) : deniedResponse(decision, req)
}

function okResponse(decision: Allow): CheckResponse {
  return {
    status: { code: status.OK, message: '' },
    ok_response: {
      headers: decision.set.map((h) => header(h.name, h.value)),
      headers_to_remove: [...decision.remove],
      ...(decision.removeQuery.length > 0
        ? { query_parameters_to_remove: [...decision.removeQuery] }
        : {}),
    },
    dynamic_metadata: toStruct(decision.metadata),
  }
}

function deniedResponse(decision: Deny, req: AuthRequest): CheckResponse {
  const spec: DenySpec = DENY[decision.reason]
  const openai = decision.style?.body === 'openai'
  const headers = [openai ? APPLICATION_JSON : TEXT_PLAIN]
  const challenge = wwwAuthenticate(spec, req)
  if (challenge !== undefined) headers.push(header('www-authenticate', challenge))
  const message =
    decision.style?.explain && decision.explanation ? explain(decision.explanation) : spec.body
  return {
    // The gRPC message carries the stable reason id only (Envoy debug logs show it).
    status: { code: spec.grpc, message: decision.reason },
    denied_response: {
      status: { code: spec.http },
      headers,
      body: openai ? openAiError(message, spec, decision.reason) : message,
    },
  }
}

/**
 * The error shape OpenAI's API returns, so the OpenAI and Mistral SDKs raise it with its
 * message instead of a parse error. `code` is our stable reason.
 */
function openAiError(message: string, spec: DenySpec, reason: string): string {
  const type = spec.http === 401 ? 'authentication_error' : 'permission_error'
  return JSON.stringify({ error: { message, type, param: null, code: reason } })
}

/**
 * Only with `explainDenials`: names the value the caller asked for and the ones its own token
 * lists — both the caller's own data, cut short and stripped of control characters.
 */
function explain(e: Explanation): string {
  const allowed = e.allowed.slice(0, 20).map(printable).join(', ')
  return `${printable(e.requested)} is not allowed by ${printable(e.claim)}; allowed: ${allowed || 'none'}`
}

function printable(text: string): string {
  return text.replace(/[\0-\x1f\x7f]/g, '').slice(0, 128)
}

/** RFC 6750 §3 challenge; the realm is the request URL without its query (it may hold a token). */
function wwwAuthenticate(spec: DenySpec, req: AuthRequest): string | undefined {
  if (spec.challenge === 'none') return undefined
  const realm = `Bearer realm="${quotable(`${req.scheme}://${req.host}${req.pathname}`)}"`
  if (spec.challenge === 'bare') return realm
  return `${realm}, error="invalid_token", error_description="${spec.description ?? ''}"`
}

/** Keeps a quoted-string quoted: no quote, backslash or control character from the request. */
function quotable(text: string): string {
  return text.replace(/["\\\0-\x1f\x7f]/g, '').slice(0, MAX_REALM_LENGTH)
}

/** Both `append: false` and `append_action`: Envoy 1.37.0 duplicated headers when `append` was unset (envoy#43310). */
function header(key: string, value: string): HeaderValueOption {
  return {
    header: { key, value },
    append: { value: false },
    append_action: OVERWRITE_IF_EXISTS_OR_ADD,
  }
}
