import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { base64url, exportJWK, generateKeyPair, type JWK } from 'jose'
import { randomBytes } from 'node:crypto'
import { UsageError } from './usage-error.js'

const ALGS = ['RS256', 'ES256', 'EdDSA', 'HS256'] as const
type KeyAlg = (typeof ALGS)[number]

/**
 * `keys generate --alg A --kid K --out DIR`: writes DIR/private.jwk.json (for `token --key`)
 * and DIR/jwks.json (for a provider's `jwks.local.file`). Private material is written 0600.
 */
export async function runKeys(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub !== 'generate')
    throw new UsageError('usage: keys generate --alg RS256|ES256|EdDSA|HS256 --kid K --out DIR')
  const { values } = parseArgs({
    args: rest,
    options: {
      alg: { type: 'string', default: 'RS256' },
      kid: { type: 'string' },
      out: { type: 'string', default: '.' },
    },
  })
  if (!(ALGS as readonly string[]).includes(values.alg)) {
    throw new UsageError(`--alg must be one of ${ALGS.join(', ')}`)
  }
  const alg = values.alg as KeyAlg
  const kid = values.kid ?? `${alg.toLowerCase()}-${new Date().toISOString().slice(0, 10)}`
  const { privateJwk, publicJwk } = await generate(alg, kid)
  mkdirSync(values.out, { recursive: true })
  writeFileSync(join(values.out, 'private.jwk.json'), `${JSON.stringify(privateJwk, null, 2)}\n`, {
    mode: 0o600,
  })
  // A symmetric key has no public half: its "JWKS" is the secret itself, so keep it 0600 too.
  writeFileSync(
    join(values.out, 'jwks.json'),
    `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`,
    { mode: alg === 'HS256' ? 0o600 : 0o644 },
  )
  process.stdout.write(
    `wrote ${join(values.out, 'private.jwk.json')} (signing key, keep it private)\n`,
  )
  process.stdout.write(
    `wrote ${join(values.out, 'jwks.json')} (${alg === 'HS256' ? 'the shared secret as a JWKS: as private as the key' : 'public keys'}: jwks.local.file)\n`,
  )
  return 0
}

async function generate(alg: KeyAlg, kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const meta = { kid, alg, use: 'sig' }
  if (alg === 'HS256') {
    const secret = { kty: 'oct', k: base64url.encode(randomBytes(32)), ...meta }
    return { privateJwk: secret, publicJwk: secret }
  }
  const pair = await generateKeyPair(alg, { extractable: true })
  return {
    privateJwk: { ...(await exportJWK(pair.privateKey)), ...meta },
    publicJwk: { ...(await exportJWK(pair.publicKey)), ...meta },
  }
}
