// The tokens of `npm run bench:envoy` and the key set every verifying set-up is configured
// with: seed 003's Alice (the seed key, no kid) for the hot rows, and 10k distinct tokens
// signed here with a fresh RS256 key (kid bench-cold, same issuer and claims shape) for the
// cold row, so no set-up has seen one before the run.
import { exportJWK, generateKeyPair, importSPKI, SignJWT } from 'jose'
import { ALICE_TOKEN, SEED_PEM_PUBLIC_KEY } from '../../../test/helpers/keys.js'

export interface SubToken {
  readonly sub: string
  readonly token: string
}

export interface BenchKeys {
  /** JWKS JSON: the seed key (no kid) and the fresh key (kid bench-cold). */
  readonly jwks: string
  readonly hot: readonly SubToken[]
  readonly cold: readonly SubToken[]
  /** Alice's and some cold tokens with their signatures broken: 401 everywhere. */
  readonly invalid: readonly SubToken[]
}

export const ISSUER = 'solo.io'
const COLD_KID = 'bench-cold'

/** The last 6 characters of the signature replaced: the token parses, its signature fails. */
const forge = (token: string) =>
  `${token.slice(0, -6)}${token.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`

export async function benchKeys(coldCount = 10_000): Promise<BenchKeys> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const seed = await exportJWK(
    await importSPKI(SEED_PEM_PUBLIC_KEY, 'RS256', { extractable: true }),
  )
  const fresh = await exportJWK(publicKey)
  const jwks = JSON.stringify({
    keys: [
      { ...seed, alg: 'RS256', use: 'sig' },
      { ...fresh, alg: 'RS256', use: 'sig', kid: COLD_KID },
    ],
  })
  const exp = Math.floor(Date.now() / 1000) + 6 * 3600
  const cold = await Promise.all(
    Array.from({ length: coldCount }, async (_, i) => {
      const sub = `user-${i}`
      const token = await new SignJWT({
        org: 'solo.io',
        team: 'dev',
        llms: { openai: ['gpt-3.5-turbo'] },
      })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: COLD_KID })
        .setIssuer(ISSUER)
        .setSubject(sub)
        .setExpirationTime(exp)
        .sign(privateKey)
      return { sub, token }
    }),
  )
  const invalid = [
    { sub: 'alice', token: forge(ALICE_TOKEN) },
    ...cold.slice(0, 99).map((t) => ({ sub: t.sub, token: forge(t.token) })),
  ]
  return { jwks, hot: [{ sub: 'alice', token: ALICE_TOKEN }], cold, invalid }
}
