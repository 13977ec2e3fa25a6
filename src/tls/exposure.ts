import { isIPv4 } from 'node:net'
import type { CompiledRoute } from '../engine/engine.js'

/** A Check listener as it was started: `grpc` or `httpAuthz`, and its address. */
export interface CheckListener {
  readonly name: string
  readonly address: string
}

/** What the start-up warning names: routes that inject a secret, listeners open to others. */
export interface SecretExposure {
  readonly routes: readonly string[]
  readonly listeners: readonly string[]
}

/**
 * Whoever can call Check can read every key a route injects (SECURITY.md). Returns what to
 * warn about when a route injects a secret while a Check listener is reachable beyond
 * loopback and does not require a client certificate; undefined when nothing is exposed.
 */
export function secretExposure(
  routes: readonly CompiledRoute[],
  listeners: readonly CheckListener[],
  mutualTls: boolean,
): SecretExposure | undefined {
  if (mutualTls) return undefined
  const open = listeners.filter((l) => !isLoopback(l.address)).map((l) => `${l.name} ${l.address}`)
  const injecting = routes
    .filter((route) => route.upstream.headers.some((h) => h.kind === 'secret'))
    .map((route) => route.name)
  return open.length === 0 || injecting.length === 0
    ? undefined
    : { routes: injecting, listeners: open }
}

/** `127.x.y.z`, `::1`, `localhost` or a unix socket; anything else may be reachable. */
export function isLoopback(address: string): boolean {
  if (address.startsWith('unix:')) return true
  const host = address
    .slice(0, address.lastIndexOf(':'))
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase()
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host
  return host === 'localhost' || host === '::1' || (isIPv4(v4) && v4.startsWith('127.'))
}
