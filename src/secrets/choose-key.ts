import type { JWTPayload } from 'jose'
import type { SecretRefConfig } from '../config/secret-schema.js'
import type { HeaderToSet } from '../decision/decision.js'
import { readClaim, splitClaimPath } from '../rbac/claim-path.js'
import { keyHeaders } from './key-headers.js'
import type { ProviderKey, SecretKeys } from './provider-key.js'
import { pickKey } from './rendezvous.js'
import type { SecretStore } from './store.js'

/** A secret a header may end up with, and the headers its map entry adds. */
export interface KeyTarget {
  readonly secret: string
  readonly headers: readonly HeaderToSet[]
}

/** An upstream header's `secret`, compiled: a name, or a choice of name by a claim. */
export type KeyChoice =
  | { readonly kind: 'named'; readonly target: KeyTarget }
  | {
      readonly kind: 'claim'
      readonly claim: string
      readonly path: readonly string[]
      /** Claim value -> target; equal entries share one target object (see targetByClaim). */
      readonly map: ReadonlyMap<string, KeyTarget>
      readonly fallback: KeyTarget | undefined
    }

/** The key a caller gets, with every header that goes with it (the entry's win on a name). */
export interface ChosenKey {
  readonly key: ProviderKey
  readonly headers: readonly HeaderToSet[]
}

const NO_HEADERS: readonly HeaderToSet[] = Object.freeze([])

export function compileKeyChoice(ref: SecretRefConfig): KeyChoice {
  if (typeof ref === 'string')
    return Object.freeze({
      kind: 'named',
      target: Object.freeze({ secret: ref, headers: NO_HEADERS }),
    })
  const shared = new Map<string, KeyTarget>()
  const target = (secret: string, headers?: Readonly<Record<string, string>>): KeyTarget => {
    const made = Object.freeze({ secret, headers: headers ? keyHeaders(headers) : NO_HEADERS })
    const id = `${secret}\0${JSON.stringify(made.headers)}`
    if (!shared.has(id)) shared.set(id, made)
    return shared.get(id)!
  }
  const map = new Map(
    Object.entries(ref.map).map(([value, t]) => [
      value,
      typeof t === 'string' ? target(t) : target(t.secret, t.headers),
    ]),
  )
  return Object.freeze({
    kind: 'claim',
    claim: ref.claim,
    path: splitClaimPath(ref.claim, ref.nestedClaimDelimiter ?? '.'),
    map,
    fallback: ref.fallback === undefined ? undefined : target(ref.fallback),
  })
}

/**
 * The key for these verified claims, or undefined: the claim is missing or unmapped without
 * a fallback, a list claim maps to two different entries, or a pool's claim is missing. The
 * caller then denies (`no_provider_key`): never an allow without a key, never a guess.
 */
export function chooseKey(
  choice: KeyChoice,
  claims: JWTPayload | undefined,
  secrets: SecretStore,
): ChosenKey | undefined {
  const target = choice.kind === 'named' ? choice.target : targetByClaim(choice, claims)
  const keys = target === undefined ? undefined : secrets.keys(target.secret)
  if (target === undefined || keys === undefined) return undefined
  const key = keys.kind === 'single' ? keys.key : pooledKey(keys, claims)
  if (key === undefined) return undefined
  if (target.headers.length === 0) return { key, headers: key.headers }
  const names = new Set(target.headers.map((h) => h.name))
  return { key, headers: [...key.headers.filter((h) => !names.has(h.name)), ...target.headers] }
}

/**
 * A scalar claim is looked up as text (`3`, `true` as written in YAML). A list claim takes the
 * entries its elements map to, ignoring the unmapped ones (a `groups` claim): one entry is the
 * answer, two different ones are ambiguous and refused, none falls back.
 */
function targetByClaim(
  choice: Extract<KeyChoice, { kind: 'claim' }>,
  claims: JWTPayload | undefined,
): KeyTarget | undefined {
  const value = claims === undefined ? undefined : readClaim(claims, choice.path)
  let found: KeyTarget | undefined
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = scalarText(item)
      const target = text === undefined ? undefined : choice.map.get(text)
      if (target === undefined) continue
      if (found !== undefined && target !== found) return undefined
      found = target
    }
  } else {
    const text = scalarText(value)
    found = text === undefined ? undefined : choice.map.get(text)
  }
  return found ?? choice.fallback
}

function pooledKey(
  pool: Extract<SecretKeys, { kind: 'pool' }>,
  claims: JWTPayload | undefined,
): ProviderKey | undefined {
  const text = claims === undefined ? undefined : scalarText(readClaim(claims, pool.by))
  return text === undefined ? undefined : pickKey(pool.keys, text)
}

/** The text a claim value is matched or hashed as; objects, null and absence have none. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value === 'boolean') return String(value)
  return undefined
}
