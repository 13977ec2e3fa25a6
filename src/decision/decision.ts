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
  readonly metadata: DecisionMetadata
}

export interface Deny {
  readonly kind: 'deny'
  readonly reason: DenyReason
  /** Route name when one matched; metrics label with it. */
  readonly route?: string
}

export type Decision = Allow | Deny

export function allow(
  route: string,
  upstream: {
    readonly set: readonly HeaderToSet[]
    readonly remove: readonly string[]
    readonly removeQuery: readonly string[]
  },
  metadata: DecisionMetadata,
): Allow {
  return {
    kind: 'allow',
    route,
    set: upstream.set,
    remove: upstream.remove,
    removeQuery: upstream.removeQuery,
    metadata,
  }
}

export function deny(reason: DenyReason, route?: string): Deny {
  return route === undefined ? { kind: 'deny', reason } : { kind: 'deny', reason, route }
}
