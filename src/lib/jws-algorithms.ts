/** The key types a verification key can have (`oct`: an HMAC secret). */
export type KeyType = 'RSA' | 'EC' | 'OKP' | 'oct'

/** What a JWS algorithm needs of its key, and what it produces. */
export interface AlgorithmSpec {
  readonly kty: KeyType
  /** The curve of an EC or OKP key. */
  readonly crv?: string
  /** An HMAC secret at least as long as the hash (RFC 7518 §3.2). */
  readonly minKeyBytes?: number
  /** Signature length where the algorithm fixes it (RSA's is the modulus length). */
  readonly signatureBytes?: number
}

/**
 * Every algorithm a provider may accept, and the one table of which key serves which:
 * RFC 7518 §3 (RS, PS, ES, HS), RFC 8037 (EdDSA) and its fully-specified name Ed25519.
 * `none` is not here, so it is never accepted. The order is the config schema's.
 */
const SPECS = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256', signatureBytes: 64 },
  ES384: { kty: 'EC', crv: 'P-384', signatureBytes: 96 },
  ES512: { kty: 'EC', crv: 'P-521', signatureBytes: 132 },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', signatureBytes: 64 },
  Ed25519: { kty: 'OKP', crv: 'Ed25519', signatureBytes: 64 },
  HS256: { kty: 'oct', minKeyBytes: 32, signatureBytes: 32 },
  HS384: { kty: 'oct', minKeyBytes: 48, signatureBytes: 48 },
  HS512: { kty: 'oct', minKeyBytes: 64, signatureBytes: 64 },
} as const satisfies Record<string, AlgorithmSpec>

export type Algorithm = keyof typeof SPECS

export const ALGORITHMS = Object.freeze(Object.keys(SPECS) as Algorithm[])

/** A Map, so a name from a token (`constructor`, `__proto__`) never reads a prototype. */
const BY_NAME: ReadonlyMap<string, AlgorithmSpec> = new Map(Object.entries(SPECS))

/** The spec of `alg`, or undefined for an algorithm we do not verify. */
export function algorithmSpec(alg: string): AlgorithmSpec | undefined {
  return BY_NAME.get(alg)
}

/** The curves some algorithm signs with: an EC or OKP key on any other is of no use. */
export const CURVES: ReadonlySet<string> = new Set(
  Object.values(SPECS).flatMap((s: AlgorithmSpec) => (s.crv === undefined ? [] : [s.crv])),
)

/** The algorithms a key of this type (and curve) may serve, whatever its length. */
export function algorithmsForKeyType(kty: KeyType, crv: string | undefined): Algorithm[] {
  return ALGORITHMS.filter((alg) => {
    const spec: AlgorithmSpec = SPECS[alg]
    return spec.kty === kty && (spec.crv === undefined || spec.crv === crv)
  })
}
