import type { status } from '@grpc/grpc-js'
import type { Explanation } from '../rbac/authz-result.js'
import type { AuthRequest } from '../request/auth-request.js'
import type { Deny, HeaderToSet } from './decision.js'
import { DENY, type DenySpec } from './deny.js'

/** A realm longer than this is cut: it only names where the client was going. */
const MAX_REALM_LENGTH = 256
const TEXT_PLAIN: HeaderToSet = { name: 'content-type', value: 'text/plain' }
const APPLICATION_JSON: HeaderToSet = { name: 'content-type', value: 'application/json' }

/** What the client gets for a deny, whichever adapter (gRPC Check, HTTP) carries it. */
export interface Denial {
  readonly http: number
  readonly grpc: status
  readonly headers: readonly HeaderToSet[]
  readonly body: string
}

/** The response a client gets for `decision`: status, content type, challenge and body. */
export function denial(decision: Deny, req: AuthRequest): Denial {
  const spec: DenySpec = DENY[decision.reason]
  const openai = decision.style?.body === 'openai'
  const headers = [openai ? APPLICATION_JSON : TEXT_PLAIN]
  const challenge = wwwAuthenticate(spec, req)
  if (challenge !== undefined) headers.push({ name: 'www-authenticate', value: challenge })
  const message =
    decision.style?.explain && decision.explanation ? explain(decision.explanation) : spec.body
  return {
    http: spec.http,
    grpc: spec.grpc,
    headers,
    body: openai ? openAiError(message, spec, decision.reason) : message,
  }
}

/**
 * The error shape OpenAI's API returns, so the OpenAI and Mistral SDKs raise it with its
 * message instead of a parse error. `code` is our stable reason.
 */
function openAiError(message: string, spec: DenySpec, reason: string): string {
  const type =
    spec.http === 401
      ? 'authentication_error'
      : spec.http === 403
        ? 'permission_error'
        : 'invalid_request_error'
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
