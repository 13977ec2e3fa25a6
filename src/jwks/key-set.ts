import { createPublicKey, type KeyObject } from 'node:crypto'
import { base64url } from 'jose'
import { ALGORITHMS } from '../config/schema.js'

export type KeyType = 'RSA' | 'EC' | 'OKP' | 'oct'

/** One verification key, imported once when its set is built. */
export interface KeyEntry {
  readonly kid: string | undefined
  readonly kty: KeyType
  /** EC / OKP curve (`P-256`, `Ed25519`, ...). */
  readonly crv: string | undefined
  /** The JWK's `alg`, when it pins one; undefined means any algorithm of its type. */
  readonly alg: string | undefined
  /** KeyObject for public keys; raw bytes for `oct` (jose takes both as they are). */
  readonly key: KeyObject | Uint8Array
}

/** An immutable set of verification keys; a refresh builds a new set. */
export interface KeySet {
  readonly keys: readonly KeyEntry[]
}

/** Key material that cannot be used: the message names the problem, never the material. */
export class KeyMaterialError extends Error {
  override readonly name = 'KeyMaterialError'
}

/** Bytes an HMAC key needs for its algorithm (RFC 7518 §3.2). */
export const HMAC_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 }
const CURVES = new Set(['P-256', 'P-384', 'P-521', 'Ed25519'])
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi']
const KNOWN_ALGS = new Set<string>(ALGORITHMS)

/**
 * Builds a KeySet from JWKS data. Keys for encryption, of unsupported types, curves or
 * algorithms are skipped (reported through `skip`); a private key is an error (it does not
 * belong in a verifier's config); a set with no usable key is an error.
 */
export function buildKeySet(jwks: unknown, skip: (why: string) => void = () => {}): KeySet {
  const list = (jwks as { keys?: unknown } | null)?.keys
  if (!Array.isArray(list)) throw new KeyMaterialError('a JWKS needs a "keys" array')
  const keys: KeyEntry[] = []
  list.forEach((jwk: unknown, i) => {
    const entry = importJwk(jwk, `key ${i}`, skip)
    if (entry !== undefined) keys.push(entry)
  })
  if (keys.length === 0)
    throw new KeyMaterialError('no usable signature verification key in the key set')
  return Object.freeze({ keys: Object.freeze(keys) })
}

function importJwk(jwk: unknown, label: string, skip: (why: string) => void): KeyEntry | undefined {
  if (typeof jwk !== 'object' || jwk === null)
    throw new KeyMaterialError(`${label}: not a JSON object`)
  const j = jwk as Record<string, unknown>
  if (PRIVATE_MEMBERS.some((m) => m in j))
    throw new KeyMaterialError(`${label}: a private key where a public key belongs`)
  const kid = typeof j.kid === 'string' ? j.kid : undefined
  const alg = typeof j.alg === 'string' ? j.alg : undefined
  const name = kid === undefined ? label : `${label} (kid ${kid})`
  if (j.use === 'enc') return skipKey(skip, `${name}: use enc`)
  if (alg !== undefined && !KNOWN_ALGS.has(alg))
    return skipKey(skip, `${name}: unsupported alg ${alg}`)
  if (j.kty === 'oct') return importSecret(j, kid, alg, name)
  if (j.kty !== 'RSA' && j.kty !== 'EC' && j.kty !== 'OKP')
    return skipKey(skip, `${name}: unsupported kty ${String(j.kty)}`)
  const crv = typeof j.crv === 'string' ? j.crv : undefined
  if (j.kty !== 'RSA' && (crv === undefined || !CURVES.has(crv)))
    return skipKey(skip, `${name}: unsupported curve ${String(crv)}`)
  try {
    const key = createPublicKey({ key: j as never, format: 'jwk' })
    return Object.freeze({ kid, kty: j.kty, crv, alg, key })
  } catch {
    throw new KeyMaterialError(`${name}: not a valid ${j.kty} public key`)
  }
}

function importSecret(
  j: Record<string, unknown>,
  kid: string | undefined,
  alg: string | undefined,
  name: string,
): KeyEntry {
  if (typeof j.k !== 'string' || j.k === '')
    throw new KeyMaterialError(`${name}: oct key without "k"`)
  let bytes: Uint8Array
  try {
    bytes = base64url.decode(j.k)
  } catch {
    throw new KeyMaterialError(`${name}: "k" is not base64url`)
  }
  const min = alg === undefined ? HMAC_MIN_BYTES.HS256! : HMAC_MIN_BYTES[alg]
  if (min === undefined)
    throw new KeyMaterialError(`${name}: an oct key serves HS256/384/512 only, not ${alg}`)
  if (bytes.length < min) {
    throw new KeyMaterialError(
      `${name}: ${bytes.length}-byte secret is shorter than ${alg ?? 'HS256'} needs (${min} bytes)`,
    )
  }
  return Object.freeze({ kid, kty: 'oct', crv: undefined, alg, key: bytes })
}

function skipKey(skip: (why: string) => void, why: string): undefined {
  skip(`skipped ${why}`)
  return undefined
}

/** Wraps one imported public KeyObject (from PEM or a certificate) as a key entry. */
export function entryFromKeyObject(key: KeyObject, label: string): KeyEntry {
  const jwk = key.export({ format: 'jwk' })
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP')
    throw new KeyMaterialError(`${label}: unsupported key type`)
  if (jwk.kty !== 'RSA' && (jwk.crv === undefined || !CURVES.has(jwk.crv))) {
    throw new KeyMaterialError(`${label}: unsupported curve ${String(jwk.crv)}`)
  }
  return Object.freeze({ kid: undefined, kty: jwk.kty, crv: jwk.crv, alg: undefined, key })
}
