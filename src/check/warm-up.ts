import { randomBytes, type KeyObject } from 'node:crypto'
import { base64url } from 'jose'
import { allow, deny } from '../decision/decision.js'
import type { Engine } from '../engine/engine.js'
import { algorithmSpec } from '../lib/jws-algorithms.js'
import type { KeyEntry } from '../jwks/key-set.js'
import { decodeCheckRequest, encodeCheckResponse, loadAuthorizationService } from '../proto/load.js'
import type { CheckRequest } from '../proto/types.js'
import { algorithmFits } from '../verify/candidates.js'
import { verifyToken } from '../verify/verify.js'
import { decide } from './decide.js'
import { toAuthRequest } from './request.js'
import { toCheckResponse } from './response.js'

/** A CheckRequest as Envoy sends one, without a token: every phase up to token extraction. */
const WARM_CHECK: CheckRequest = {
  attributes: {
    request: {
      http: {
        method: 'POST',
        scheme: 'http',
        host: 'warm-up.invalid',
        path: '/warm-up?warm=1',
        headers: { ':method': 'POST', 'content-type': 'application/json', 'x-request-id': 'warm' },
        body: '{"model":"warm-up"}',
      },
    },
  },
}

/**
 * Runs what a first Check would run for the first time, before the service says SERVING: the
 * request decoding and the pipeline up to the token, each provider's signature check (a token
 * of its issuer with a random signature, against its real keys) and the encoding of an allow
 * and a deny. Otherwise the first Check pays for V8 compiling jose's verify path and the
 * encoders and for WebCrypto's first use, tens of milliseconds on a small machine against an
 * ext_authz timeout of one second. Nothing is counted, logged or cached: verifyToken is called directly.
 * Providers without keys yet are skipped (their Checks wait on the fetch anyway).
 */
export async function warmUp(engine: Engine): Promise<void> {
  const req = toAuthRequest(
    decodeCheckRequest(loadAuthorizationService().Check!.requestSerialize(WARM_CHECK)),
  )
  await decide(engine, req)
  for (const verifier of engine.providers.values()) {
    const key = verifier.keys.current()?.keys[0]
    const alg = key && [...verifier.algorithms].find((a) => algorithmFits(key, a))
    if (key === undefined || alg === undefined) continue
    await verifyToken(verifier, syntheticToken(verifier.issuer, alg, key))
  }
  const upstream = { set: [{ name: 'x-warm-up', value: '1' }], remove: [], removeQuery: [] }
  encodeCheckResponse(toCheckResponse(allow('warm-up', upstream, { route: 'warm-up' }), req))
  encodeCheckResponse(toCheckResponse(deny('token_missing'), req))
}

/** A JWT of `issuer` whose signature has the length `alg` with `key` produces, but is random. */
function syntheticToken(issuer: string, alg: string, key: KeyEntry): string {
  const header = base64url.encode(JSON.stringify({ alg, typ: 'JWT' }))
  const payload = base64url.encode(JSON.stringify({ iss: issuer, sub: 'warm-up' }))
  return `${header}.${payload}.${base64url.encode(randomBytes(signatureBytes(alg, key)))}`
}

function signatureBytes(alg: string, key: KeyEntry): number {
  if (key.kty === 'RSA') {
    const bits = (key.key as KeyObject).asymmetricKeyDetails?.modulusLength ?? 2048
    return Math.ceil(bits / 8)
  }
  return algorithmSpec(alg)?.signatureBytes ?? 64
}
