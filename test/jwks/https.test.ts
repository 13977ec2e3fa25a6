import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { createCheckClient } from '../helpers/check-client.js'
import { eventually } from '../helpers/eventually.js'
import { checkRequest } from '../helpers/check-request.js'
import { JwksServer } from '../helpers/jwks-server.js'
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js'
import { generateCerts } from '../tls/tls-fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'

/**
 * Keys fetched over real TLS: an https IdP whose certificate a throwaway CA signed
 * (scripts/gen-test-certs.sh, per run), trusted by the `serve` child through
 * NODE_EXTRA_CA_CERTS: the production code has no TLS switch. The IdP also tries to send the
 * key fetch to plain http, by redirect and by its jwks_uri.
 */
const certs = generateCerts()
const caFile = join(certs.dir, 'ca.crt')
let idp: Server
let base = ''
const plain = new JwksServer()
let signer: { privateKey: CryptoKey; jwk: JWK }

before(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true })
  signer = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: 'k' } }
  await plain.start()
  plain.keys = [signer.jwk]
  idp = createServer(
    { cert: certs.pem('server.crt'), key: certs.pem('server.key') },
    (req, res) => {
      const json = (body: unknown) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
      const redirect = (location: string) => res.writeHead(302, { location }).end()
      const routes: Record<string, () => void> = {
        '/.well-known/openid-configuration': () =>
          json({ issuer: 'https://idp.test/ok', jwks_uri: `${base}/jwks.json` }),
        '/plain/.well-known/openid-configuration': () =>
          json({ issuer: 'https://idp.test/plain', jwks_uri: plain.jwksUrl }),
        '/jwks.json': () => json({ keys: [signer.jwk] }),
        '/moved': () => redirect('/jwks.json'),
        '/downgrade': () => redirect(plain.jwksUrl),
      }
      ;(routes[req.url ?? ''] ?? (() => res.writeHead(404).end()))()
    },
  )
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve))
  base = `https://127.0.0.1:${(idp.address() as AddressInfo).port}`
})
after(async () => {
  idp.closeAllConnections()
  await new Promise((resolve) => idp.close(resolve))
  await plain.close()
  certs.remove()
})

function configFile(): string {
  const dir = tempDir('jwt-ext-authz-https')
  const provider = (name: string, jwks: string) =>
    `  ${name}:\n    issuer: https://idp.test/${name}\n    jwks: ${jwks}\n`
  writeFileSync(
    join(dir, 'config.yaml'),
    `providers:\n${provider('ok', `{ oidc: { issuerUrl: "${base}" } }`)}${provider('moved', `{ remote: { url: "${base}/moved" } }`)}${provider('downgrade', `{ remote: { url: "${base}/downgrade" } }`)}${provider('plain', `{ oidc: { issuerUrl: "${base}/plain" } }`)}routes:\n  - name: api\n`,
  )
  return join(dir, 'config.yaml')
}

/** /readyz's reason line once no provider's first fetch is still running (the test's timeout bounds the wait). */
async function settledReadiness(server: ServeProcess): Promise<string> {
  let reason = ''
  await eventually(`first fetches settled: ${server.stderr()}`, async () => {
    // The first line is the reason; the second names the config revision.
    reason = (await (await fetch(`${server.http}/readyz`)).text()).split('\n')[0] ?? ''
    return !reason.includes('first fetch running')
  })
  return reason
}

async function verdict(server: ServeProcess, provider: string): Promise<string> {
  const token = await new SignJWT({ sub: 'svc' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k' })
    .setIssuer(`https://idp.test/${provider}`)
    .sign(signer.privateKey)
  const client = createCheckClient(server.grpc)
  try {
    const res = await client.check(checkRequest({ headers: { authorization: `Bearer ${token}` } }))
    return res.status?.code === 0 ? 'allowed' : (res.status?.message ?? '')
  } finally {
    client.close()
  }
}

test('https keys from a trusted IdP verify; a redirect or a jwks_uri to plain http is refused', async (t) => {
  const server = await startServeProcess(['--config', configFile(), '--log-level', 'silent'], {
    NODE_EXTRA_CA_CERTS: caFile,
  })
  t.after(() => server.stop())
  assert.equal(
    await settledReadiness(server),
    `providers without keys: downgrade (redirect to another origin refused (${plain.url})), plain (discovery document names an http:// jwks_uri; https only unless insecure: true)`,
  )
  assert.equal(await verdict(server, 'ok'), 'allowed', 'OIDC discovery and keys over https')
  assert.equal(await verdict(server, 'moved'), 'allowed', 'a same-origin redirect is followed')
  assert.equal(await verdict(server, 'downgrade'), 'jwks_unavailable')
  assert.equal(await verdict(server, 'plain'), 'jwks_unavailable')
  assert.equal(plain.jwksHits, 0, 'nothing was fetched over plain http')
})

test('an IdP certificate no CA vouches for is refused: no key is fetched', async (t) => {
  const server = await startServeProcess(['--config', configFile(), '--log-level', 'silent'])
  t.after(() => server.stop())
  const readiness = await settledReadiness(server)
  assert.match(readiness, /^providers without keys: ok \(unreachable \([A-Z_]+\)\), moved/)
  assert.equal(await verdict(server, 'ok'), 'jwks_unavailable')
})
