import { LRUCache } from 'lru-cache'
import type { Decision } from '../decision/decision.js'
import { encodeCheckResponse } from '../proto/load.js'
import type { AuthRequest } from '../request/auth-request.js'
import { toCheckResponse } from './response.js'

/**
 * Encoded responses of shared allows (see `Allow.shared`). Weak: an entry lives as long as the
 * allow, which lives as long as the token cache keeps the token's claims.
 */
const encodedAllows = new WeakMap<Decision, Buffer>()

/**
 * Encoded denials without an explanation: they depend only on the reason, the route's deny
 * body style and the URL a 401 challenge names. Bounded, and only short URLs are kept.
 */
const encodedDenies = new LRUCache<string, Buffer>({ max: 1024 })
const MAX_KEYED_URL = 256

/** The protobuf bytes of the CheckResponse for `decision`; repeated answers are encoded once. */
export function encodeDecision(decision: Decision, req: AuthRequest): Buffer {
  const key = reuseKey(decision, req)
  if (key === undefined) return encodeCheckResponse(toCheckResponse(decision, req))
  const kept = typeof key === 'string' ? encodedDenies.get(key) : encodedAllows.get(key)
  if (kept !== undefined) return kept
  const bytes = encodeCheckResponse(toCheckResponse(decision, req))
  if (typeof key === 'string') encodedDenies.set(key, bytes)
  else encodedAllows.set(key, bytes)
  return bytes
}

function reuseKey(decision: Decision, req: AuthRequest): Decision | string | undefined {
  if (decision.kind === 'allow') return decision.shared ? decision : undefined
  if (decision.explanation !== undefined) return undefined
  if (req.host.length + req.pathname.length > MAX_KEYED_URL) return undefined
  return `${decision.reason}\0${decision.style?.body ?? ''}\0${req.scheme}\0${req.host}\0${req.pathname}`
}
