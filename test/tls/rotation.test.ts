import assert from 'node:assert/strict'
import { copyFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js'
import {
  GATEWAY_ID,
  checkOverTls,
  forwardAuthOverTls,
  generateCerts,
  logLine,
  writeConfig,
  type ClientIdentity,
  type TestCerts,
} from './tls-fixtures.js'

// The served files live in their own names (tls.crt, tls.key, client-ca.crt), as a mounted
// Kubernetes Secret would; the tests replace them on disk and wait for the reload log line.
let certs: TestCerts
let serve: ServeProcess
const OLD: ClientIdentity = { trust: 'ca.crt', cert: 'client' }
const NEW: ClientIdentity = { trust: 'other-ca.crt', cert: 'other-client' }

function install(from: string, to: string): void {
  // Write beside, then rename: a reader never sees half a file (as Kubernetes' swap).
  copyFileSync(join(certs.dir, from), join(certs.dir, `${to}.tmp`))
  renameSync(join(certs.dir, `${to}.tmp`), join(certs.dir, to))
}

before(async () => {
  certs = generateCerts()
  install('server.crt', 'tls.crt')
  install('server.key', 'tls.key')
  install('ca.crt', 'client-ca.crt')
  const config = writeConfig(certs.dir, {
    tls: { cert: 'tls.crt', key: 'tls.key', clientCa: 'client-ca.crt', allowedSans: [GATEWAY_ID] },
  })
  serve = await startServeProcess(['--config', config])
})
after(async () => {
  await serve.stop()
  certs.remove()
})

const alice = (who: ClientIdentity) => checkOverTls(certs, serve.grpc, who, '/openai', ALICE_TOKEN)

test('a broken certificate on disk is refused with its reason; the last good one keeps serving', async () => {
  const from = serve.stderr().length
  writeFileSync(join(certs.dir, 'tls.crt'), 'not a certificate\n')
  await logLine(
    serve,
    /"path":"listen\.tls\.cert","error":"[^"]*not a PEM certificate.*TLS reload refused/,
    from,
  )
  assert.equal((await alice(OLD)).status?.code, 0)
  install('server.crt', 'tls.crt')
})

test('a certificate paired with another key is refused; the last good pair keeps serving', async () => {
  const from = serve.stderr().length
  install('other-server.crt', 'tls.crt')
  await logLine(serve, /"path":"listen\.tls\.key".*TLS reload refused/, from)
  assert.equal((await alice(OLD)).status?.code, 0)
})

test('new certificate, key and client CA on disk: a client of the new CA connects, no restart', async () => {
  const from = serve.stderr().length
  // The CA first: until the key matches the certificate installed above, nothing is used.
  install('other-ca.crt', 'client-ca.crt')
  install('other-server.key', 'tls.key')
  await logLine(serve, /TLS certificates reloaded/, from)
  assert.equal((await alice(NEW)).status?.code, 0)
  const https = await forwardAuthOverTls(
    certs,
    Number(new URL(serve.httpAuthz).port),
    NEW,
    '/openai',
    ALICE_TOKEN,
  )
  assert.equal(https.status, 200)
  // The old CA no longer vouches for anyone, and the old server certificate is gone.
  await assert.rejects(alice(OLD), { code: 14 })
  await assert.rejects(alice({ trust: 'other-ca.crt', cert: 'client' }), { code: 14 })
  assert.equal(serve.proc.exitCode, null, 'the same process serves')
})
