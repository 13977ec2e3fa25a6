import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { base64url, exportJWK, generateKeyPair, type JWK } from 'jose'
import { randomBytes } from 'node:crypto'
import type { OptionValues } from './command.js'
import { KEYS_GENERATE } from './specs.js'
import { CommandFailed, UsageError } from './usage-error.js'

const ALGS = ['RS256', 'ES256', 'EdDSA', 'HS256'] as const
type KeyAlg = (typeof ALGS)[number]

/** Where keys go without --out: a folder of their own, never loose in the working directory. */
const DEFAULT_OUT = 'keys'

/** `keys generate`: a signing key and its JWKS, written without overwriting anything. */
export async function runKeysGenerate(
  values: OptionValues<typeof KEYS_GENERATE.options>,
): Promise<number> {
  if (!(ALGS as readonly string[]).includes(values.alg)) {
    throw new UsageError(`--alg must be one of ${ALGS.join(', ')}`, KEYS_GENERATE)
  }
  const alg = values.alg as KeyAlg
  const kid = values.kid ?? `${alg.toLowerCase()}-${new Date().toISOString().slice(0, 10)}`
  const out = values.out ?? DEFAULT_OUT
  const files = { private: join(out, 'private.jwk.json'), jwks: join(out, 'jwks.json') }
  for (const file of Object.values(files)) {
    if (existsSync(file))
      throw new CommandFailed(
        `${file} exists; not overwriting a key (remove it or pick another --out)`,
      )
  }
  const { privateJwk, publicJwk } = await generate(alg, kid)
  if (values.out === undefined) process.stdout.write(`no --out given: writing into ./${out}/\n`)
  mkdirSync(out, { recursive: true, mode: 0o700 })
  // 'wx': even a file created since the check above is never overwritten.
  writeFileSync(files.private, `${JSON.stringify(privateJwk, null, 2)}\n`, {
    mode: 0o600,
    flag: 'wx',
  })
  // A symmetric key has no public half: its "JWKS" is the secret itself, so keep it 0600 too.
  writeFileSync(files.jwks, `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`, {
    mode: alg === 'HS256' ? 0o600 : 0o644,
    flag: 'wx',
  })
  process.stdout.write(`wrote ${files.private} (signing key, keep it private)\n`)
  process.stdout.write(
    `wrote ${files.jwks} (${alg === 'HS256' ? 'the shared secret as a JWKS: as private as the key' : 'public keys'}: jwks.local.file)\n`,
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
