import { readFileSync } from 'node:fs'
import { importJWK, SignJWT, type JWK } from 'jose'
import { parseDuration } from '../config/duration.js'
import { claimsFromArgs } from './claim-args.js'
import type { OptionValues } from './command.js'
import type { TOKEN } from './specs.js'
import { UsageError } from './usage-error.js'

/**
 * `token`: mints a signed JWT for development, replacing seed 000's ten lines of openssl.
 * `--key private.jwk.json` (from `keys generate`) or `--secret RAW` (HS256 with a raw shared
 * secret, as llm-d's DEV_SECRET). Without `--ttl` the token has no exp, like the seed tokens.
 */
export async function runToken(values: OptionValues<typeof TOKEN.options>): Promise<number> {
  if ((values.key === undefined) === (values.secret === undefined)) {
    throw new UsageError('needs exactly one of --key FILE or --secret RAW')
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
    jwt.setIssuedAt(now).setExpirationTime(now + ttlSeconds(values.ttl))
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
  const jwk = readJwk(file!)
  if (typeof jwk.alg !== 'string')
    throw new UsageError(`${file}: the JWK has no alg (use keys generate)`)
  if (jwk.kty !== 'oct' && jwk.d === undefined) throw new UsageError(`${file}: not a private key`)
  return { key: await importJWK(jwk, jwk.alg), alg: jwk.alg, kid: kidArg ?? jwk.kid }
}

function ttlSeconds(ttl: string): number {
  if (!/^[0-9]+(ms|s|m|h)$/.test(ttl))
    throw new UsageError(`--ttl takes 30s, 10m, 1h..., got ${ttl}`)
  return Math.floor(parseDuration(ttl) / 1000)
}

function readJwk(file: string): JWK {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new UsageError(`--key ${file}: cannot read (${(err as NodeJS.ErrnoException).code})`)
  }
  try {
    return JSON.parse(text) as JWK
  } catch {
    throw new UsageError(`--key ${file}: not JSON (expected a JWK from keys generate)`)
  }
}
