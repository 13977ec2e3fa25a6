import { createPublicKey, type KeyObject } from 'node:crypto'
import { base64url } from 'jose'
import { algorithmSpec, CURVES, type KeyType } from '../lib/jws-algorithms.js'

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

/**
 * A well-formed key we refuse to verify with (weak, or not written as RFC 7518 says): an error
 * in a config (`jwks.local`), skipped with a log line in a fetched set so the IdP's other keys
 * keep working.
 */
export class UnusableKeyError extends KeyMaterialError {}

/** How a key set is built: `local` refuses unusable keys, `fetched` skips them. */
export interface KeySetPolicy {
  readonly origin: 'local' | 'fetched'
  /** Told about every key skipped, naming it (index and kid), never its material. */
  readonly skip?: (why: string) => void
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi']
/** Key members RFC 7518 §6 writes in base64url: no `+`, `/` or `=` padding. */
const ENCODED_MEMBERS = ['n', 'e', 'x', 'y', 'k']
const BASE64URL = /^[A-Za-z0-9_-]+$/
/** jose refuses smaller RSA keys at verify time (a TypeError every Check): refuse them first. */
export const MIN_RSA_BITS = 2048

/**
 * Builds a KeySet from JWKS data. Keys for encryption, of unsupported types, curves or
 * algorithms are skipped (reported through `skip`); unusable keys (RSA under 2048 bits,
 * members not in base64url) are errors locally and skipped when fetched; a private key is an
 * error (it does not belong in a verifier's config); a set with no usable key is an error.
 */
export function buildKeySet(jwks: unknown, policy: KeySetPolicy = { origin: 'local' }): KeySet {
  const list = (jwks as { keys?: unknown } | null)?.keys
  if (!Array.isArray(list)) throw new KeyMaterialError('a JWKS needs a "keys" array')
  const skip = policy.skip ?? (() => {})
  const keys: KeyEntry[] = []
  list.forEach((jwk: unknown, i) => {
    try {
      const entry = importJwk(jwk, `key ${i}`, skip)
      if (entry !== undefined) keys.push(entry)
    } catch (err) {
      if (!(err instanceof UnusableKeyError) || policy.origin === 'local') throw err
      skip(`skipped ${err.message}`)
    }
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
  const badMember = ENCODED_MEMBERS.find((m) => m in j && !isBase64url(j[m]))
  if (badMember !== undefined)
    throw new UnusableKeyError(`${name}: "${badMember}" is not base64url (RFC 7518 §6)`)
  if (alg !== undefined && algorithmSpec(alg) === undefined)
    return skipKey(skip, `${name}: unsupported alg ${alg}`)
  if (j.kty === 'oct') return importSecret(j, kid, alg, name)
  if (j.kty !== 'RSA' && j.kty !== 'EC' && j.kty !== 'OKP')
    return skipKey(skip, `${name}: unsupported kty ${String(j.kty)}`)
  const crv = typeof j.crv === 'string' ? j.crv : undefined
  // Envoy's jwt_authn takes an EC key without crv as P-256; guessing a curve is not ours to do.
  if (j.kty === 'EC' && crv === undefined) return skipKey(skip, `${name}: EC key without crv`)
  if (j.kty !== 'RSA' && (crv === undefined || !CURVES.has(crv)))
    return skipKey(skip, `${name}: unsupported curve ${String(crv)}`)
  let key: KeyObject
  try {
    key = createPublicKey({ key: j as never, format: 'jwk' })
  } catch {
    throw new KeyMaterialError(`${name}: not a valid ${j.kty} public key`)
  }
  refuseWeakRsa(key, name)
  return Object.freeze({ kid, kty: j.kty, crv, alg, key })
}

function isBase64url(value: unknown): boolean {
  return typeof value === 'string' && BASE64URL.test(value)
}

function refuseWeakRsa(key: KeyObject, name: string): void {
  const bits = key.asymmetricKeyDetails?.modulusLength
  if (key.asymmetricKeyType === 'rsa' && (bits === undefined || bits < MIN_RSA_BITS)) {
    throw new UnusableKeyError(
      `${name}: ${bits ?? 'unknown'}-bit RSA key is weaker than the ${MIN_RSA_BITS} bits required`,
    )
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
    throw new UnusableKeyError(`${name}: "k" is not base64url`)
  }
  const min = algorithmSpec(alg ?? 'HS256')?.minKeyBytes
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
  refuseWeakRsa(key, label)
  return Object.freeze({ kid: undefined, kty: jwk.kty, crv: jwk.crv, alg: undefined, key })
}
