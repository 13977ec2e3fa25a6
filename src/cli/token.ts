import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { importJWK, SignJWT, type JWK } from 'jose'
import { parseDuration } from '../config/duration.js'
import { claimsFromArgs } from './claim-args.js'
import { UsageError } from './usage-error.js'

/**
 * `token`: mints a signed JWT for development, replacing seed 000's ten lines of openssl.
 * `--key private.jwk.json` (from `keys generate`) or `--secret RAW` (HS256 with a raw shared
 * secret, as llm-d's DEV_SECRET). Without `--ttl` the token has no exp, like the seed tokens.
 */
export async function runToken(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      key: { type: 'string' },
      secret: { type: 'string' },
      kid: { type: 'string' },
      iss: { type: 'string' },
      sub: { type: 'string' },
      aud: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string' },
      claim: { type: 'string', multiple: true, default: [] },
    },
  })
  if ((values.key === undefined) === (values.secret === undefined)) {
    throw new UsageError('token needs exactly one of --key FILE or --secret RAW')
  }
  const { key, alg, kid } = await signingKey(values.key, values.secret, values.kid)
  const payload: Record<string, unknown> = {}
  if (values.iss !== undefined) payload.iss = values.iss
  if (values.sub !== undefined) payload.sub = values.sub
  if (values.aud.length > 0) payload.aud = values.aud.length === 1 ? values.aud[0] : values.aud
  Object.assign(payload, claimsFromArgs(values.claim))
  const jwt = new SignJWT(payload).setProtectedHeader(
    kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid },
  )
  if (values.ttl !== undefined) {
    const now = Math.floor(Date.now() / 1000)
    jwt.setIssuedAt(now).setExpirationTime(now + parseDuration(values.ttl) / 1000)
  }
  process.stdout.write(`${await jwt.sign(key)}\n`)
  return 0
}

async function signingKey(
  file: string | undefined,
  secret: string | undefined,
  kidArg: string | undefined,
) {
  if (secret !== undefined)
    return { key: new TextEncoder().encode(secret), alg: 'HS256', kid: kidArg }
  const jwk = JSON.parse(readFileSync(file!, 'utf8')) as JWK
  if (typeof jwk.alg !== 'string')
    throw new UsageError(`${file}: the JWK has no alg (use keys generate)`)
  if (jwk.kty !== 'oct' && jwk.d === undefined) throw new UsageError(`${file}: not a private key`)
  return { key: await importJWK(jwk, jwk.alg), alg: jwk.alg, kid: kidArg ?? jwk.kid }
}
