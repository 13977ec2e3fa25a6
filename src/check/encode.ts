import { LRUCache } from 'lru-cache'
import type { Decision } from '../decision/decision.js'
import { encodeCheckResponse } from '../proto/load.js'
import type { AuthRequest } from '../request/auth-request.js'
import { toCheckResponse } from './response.js'

const MAX_KEYED_URL = 256

/**
 * The protobuf bytes of CheckResponses, repeated answers encoded once. One per Check server
 * (`serve` builds it with the server's other dependencies), so two servers in one process,
 * as tests run them, keep apart.
 */
export class ResponseEncoder {
  /**
   * Encoded responses of shared allows (see `Allow.shared`). Weak: an entry lives as long as
   * the allow, which lives as long as the token cache keeps the token's claims.
   */
  readonly #allows = new WeakMap<Decision, Buffer>()
  /**
   * Encoded denials without an explanation: they depend only on the reason, the route's deny
   * body style and the URL a 401 challenge names. Bounded, and only short URLs are kept.
   */
  readonly #denies = new LRUCache<string, Buffer>({ max: 1024 })

  /** The protobuf bytes of the CheckResponse for `decision`. */
  encode(decision: Decision, req: AuthRequest): Buffer {
    const key = reuseKey(decision, req)
    if (key === undefined) return encodeCheckResponse(toCheckResponse(decision, req))
    const kept = typeof key === 'string' ? this.#denies.get(key) : this.#allows.get(key)
    if (kept !== undefined) return kept
    const bytes = encodeCheckResponse(toCheckResponse(decision, req))
    if (typeof key === 'string') this.#denies.set(key, bytes)
    else this.#allows.set(key, bytes)
    return bytes
  }
}

function reuseKey(decision: Decision, req: AuthRequest): Decision | string | undefined {
  if (decision.kind === 'allow') return decision.shared ? decision : undefined
  if (decision.explanation !== undefined) return undefined
  if (req.host.length + req.pathname.length > MAX_KEYED_URL) return undefined
  return `${decision.reason}\0${decision.style?.body ?? ''}\0${req.scheme}\0${req.host}\0${req.pathname}`
}
