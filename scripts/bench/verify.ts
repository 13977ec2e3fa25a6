// RS256 verification, jose against alternatives, in this process: the cost behind the cold
// token row. Same 2048-bit key, same 1,000 distinct tokens for each.
import { verify as nodeVerify, type KeyObject } from 'node:crypto'
import { createVerifier } from 'fast-jwt'
import { exportSPKI, generateKeyPair, jwtVerify, SignJWT } from 'jose'
// jose's previous major, whose Node build verifies with node:crypto: same checks, other engine.
import * as jose5 from 'jose5'

export interface VerifierRow {
  readonly name: string
  readonly checks: string
  /** Verifications per second, one core, flat out. */
  readonly perSecond: number
  /** Mean time from call to result, one at a time, in microseconds. */
  readonly latencyUs: number
}

const ISSUER = 'https://idp.bench'

export async function compareVerifiers(seconds = 2): Promise<VerifierRow[]> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const pem = await exportSPKI(publicKey)
  const exp = Math.floor(Date.now() / 1000) + 3600
  const tokens = await Promise.all(
    Array.from({ length: 1000 }, (_, i) =>
      new SignJWT({ sub: `user-${i}` })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer(ISSUER)
        .setAudience('bench')
        .setExpirationTime(exp)
        .sign(privateKey),
    ),
  )
  const joseKey = publicKey
  const { createPublicKey } = await import('node:crypto')
  const nodeKey: KeyObject = createPublicKey(pem)
  const jose5Key = await jose5.importSPKI(pem, 'RS256')
  const fast = createVerifier({
    key: pem,
    algorithms: ['RS256'],
    allowedIss: ISSUER,
    allowedAud: 'bench',
    cache: false,
  })

  const candidates: { name: string; checks: string; verify: (t: string) => unknown }[] = [
    {
      name: 'jose 6 jwtVerify (WebCrypto; what we use)',
      checks: 'signature, alg, iss, aud, exp, nbf, crit',
      verify: (t) =>
        jwtVerify(t, joseKey, { issuer: ISSUER, audience: 'bench', algorithms: ['RS256'] }),
    },
    {
      name: 'jose 5 jwtVerify (node:crypto build)',
      checks: 'the same as jose 6',
      verify: (t) =>
        jose5.jwtVerify(t, jose5Key, { issuer: ISSUER, audience: 'bench', algorithms: ['RS256'] }),
    },
    {
      name: 'fast-jwt createVerifier (node:crypto, sync)',
      checks: 'signature, alg, iss, aud, exp, nbf',
      verify: (t) => fast(t),
    },
    {
      name: 'node:crypto verify, signature only (lower bound)',
      checks: 'signature only',
      verify: (t) => nodeSignature(t, nodeKey),
    },
  ]
  const rows: VerifierRow[] = []
  for (const c of candidates) {
    for (const t of tokens.slice(0, 200)) await c.verify(t) // warm-up
    rows.push({
      name: c.name,
      checks: c.checks,
      perSecond: await throughput(c.verify, tokens, seconds),
      latencyUs: await latency(c.verify, tokens),
    })
  }
  return rows
}

function nodeSignature(token: string, key: KeyObject): boolean {
  const dot = token.lastIndexOf('.')
  const ok = nodeVerify(
    'RSA-SHA256',
    Buffer.from(token.slice(0, dot)),
    key,
    Buffer.from(token.slice(dot + 1), 'base64url'),
  )
  if (!ok) throw new Error('bad signature')
  return ok
}

/** 64 in flight (an async verifier overlaps them), for `seconds`. */
async function throughput(
  verify: (t: string) => unknown,
  tokens: readonly string[],
  seconds: number,
): Promise<number> {
  let done = 0
  const end = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: 64 }, async (_, lane) => {
      for (let i = lane; performance.now() < end; i += 64) {
        await verify(tokens[i % tokens.length]!)
        done++
      }
    }),
  )
  return done / seconds
}

async function latency(verify: (t: string) => unknown, tokens: readonly string[]): Promise<number> {
  const started = performance.now()
  for (const t of tokens) await verify(t)
  return ((performance.now() - started) * 1000) / tokens.length
}
