import type { Explanation } from '../rbac/authz-result.js'
import type { DenyReason } from './deny.js'

/** One header the upstream request gets, overwriting any value the caller sent. */
export interface HeaderToSet {
  readonly name: string
  readonly value: string
}

/** Identity facts for Envoy's access log and rate limiter (`dynamic_metadata`). */
export type DecisionMetadata = Readonly<Record<string, unknown>>

export interface Allow {
  readonly kind: 'allow'
  readonly route: string
  readonly set: readonly HeaderToSet[]
  readonly remove: readonly string[]
  /** Query parameters removed from the upstream request (a token sent in the URL). */
  readonly removeQuery: readonly string[]
  /** Cookies that carry the route's tokens (see UpstreamPlan); `set`/`remove` cut them out. */
  readonly tokenCookies: readonly string[]
  /** Token headers other than `authorization`, listed in `remove`. */
  readonly tokenHeaders: readonly string[]
  readonly metadata: DecisionMetadata
  /**
   * The same object answers every Check of one cached token on one route (the allow depends
   * on the token alone), so what is derived from it — the encoded response — can be kept.
   */
  readonly shared: boolean
}

/** How a route's denials read: `text` (Envoy's plain bodies) or an OpenAI-style JSON error. */
export interface DenyStyle {
  readonly body: 'text' | 'openai'
  /** Say which requested value was refused and which the token allows. */
  readonly explain: boolean
}

export interface Deny {
  readonly kind: 'deny'
  readonly reason: DenyReason
  /** Route name when one matched; metrics label with it. */
  readonly route?: string
  readonly style?: DenyStyle
  readonly explanation?: Explanation
}

export type Decision = Allow | Deny

const NONE: readonly string[] = Object.freeze([])

export function allow(
  route: string,
  upstream: Pick<Allow, 'set' | 'remove' | 'removeQuery'> &
    Partial<Pick<Allow, 'tokenCookies' | 'tokenHeaders'>>,
  metadata: DecisionMetadata,
  shared = false,
): Allow {
  return {
    kind: 'allow',
    route,
    set: upstream.set,
    remove: upstream.remove,
    removeQuery: upstream.removeQuery,
    tokenCookies: upstream.tokenCookies ?? NONE,
    tokenHeaders: upstream.tokenHeaders ?? NONE,
    metadata,
    shared,
  }
}

/** A deny; with the matched route, its name (metrics) and deny style come along. */
export function deny(
  reason: DenyReason,
  route?: { readonly name: string; readonly denyStyle: DenyStyle },
  explanation?: Explanation,
): Deny {
  if (route === undefined) return { kind: 'deny', reason }
  return {
    kind: 'deny',
    reason,
    route: route.name,
    style: route.denyStyle,
    ...(explanation ? { explanation } : {}),
  }
}
