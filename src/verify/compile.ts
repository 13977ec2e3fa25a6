import type { JWTVerifyOptions } from 'jose'
import type { ProviderConfig } from '../config/schema.js'
import { algorithmSpec, algorithmsForKeyType, ALGORITHMS } from '../lib/jws-algorithms.js'
import { KeyMaterialError, type KeyEntry } from '../jwks/key-set.js'
import type { KeySource } from '../jwks/key-source.js'
import { algorithmFits } from './candidates.js'

/** A provider compiled for the Check path: everything verifyToken needs, built once. */
export interface Verifier {
  readonly name: string
  readonly issuer: string
  readonly audiences: readonly string[]
  readonly algorithms: ReadonlySet<string>
  readonly clockSkewSeconds: number
  readonly requireExpiration: boolean
  readonly keys: KeySource
  /** Most keys a token without `kid` is tried against (each try is a signature check). */
  readonly maxCandidates: number
  /** jose options, prebuilt so a Check allocates none. */
  readonly joseOptions: JWTVerifyOptions
}

/** Every algorithm but HMAC: what a fetched (published) key set may serve. */
const ASYMMETRIC: readonly string[] = ALGORITHMS.filter((alg) => algorithmSpec(alg)?.kty !== 'oct')

export interface VerifierOptions {
  readonly clockSkewSeconds?: number
  readonly maxCandidates?: number
  /** Keys present at compile time, to derive and check algorithms (local keys). */
  readonly initialKeys?: readonly KeyEntry[]
}

export function compileVerifier(
  name: string,
  provider: ProviderConfig,
  keys: KeySource,
  opts: VerifierOptions = {},
): Verifier {
  const algorithms = acceptedAlgorithms(provider, opts.initialKeys ?? keys.current()?.keys ?? [])
  const audiences = Object.freeze([...(provider.audiences ?? [])])
  const clockSkewSeconds = opts.clockSkewSeconds ?? 60
  const requireExpiration = provider.requireExpiration ?? false
  return Object.freeze({
    name,
    issuer: provider.issuer,
    audiences,
    algorithms: new Set(algorithms),
    clockSkewSeconds,
    requireExpiration,
    keys,
    maxCandidates: opts.maxCandidates ?? 5,
    joseOptions: Object.freeze({
      issuer: provider.issuer,
      audience: audiences.length > 0 ? [...audiences] : undefined,
      algorithms,
      clockTolerance: clockSkewSeconds,
      requiredClaims: requireExpiration ? ['exp'] : undefined,
    }),
  })
}

/**
 * The provider's `algorithms`, which its local keys must be able to serve; else those its
 * local keys serve. Fetched keys are unknown at compile time: every asymmetric algorithm,
 * and key selection decides. Never HMAC there: a secret has no place in a published JWKS.
 */
function acceptedAlgorithms(provider: ProviderConfig, initial: readonly KeyEntry[]): string[] {
  const fetched = provider.jwks.local === undefined
  if (provider.algorithms === undefined)
    return fetched ? [...ASYMMETRIC] : deriveAlgorithms(initial)
  const algorithms = [...provider.algorithms]
  if (fetched) return algorithms
  const unserved = algorithms.filter((alg) => !initial.some((k) => algorithmFits(k, alg)))
  if (unserved.length > 0)
    throw new KeyMaterialError(
      `algorithms ${unserved.join(', ')}: no key of the provider can verify them`,
    )
  return algorithms
}

/** What the keys can serve; a key pinning an `alg` serves only that one. Never `none`. */
function deriveAlgorithms(keys: readonly KeyEntry[]): string[] {
  const algs = new Set<string>()
  for (const key of keys) {
    if (key.alg !== undefined) algs.add(key.alg)
    else for (const alg of algorithmsForKeyType(key.kty, key.crv)) algs.add(alg)
  }
  return [...algs]
}
