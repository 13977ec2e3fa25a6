import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { JwksServer } from '../helpers/jwks-server.js'
import { SEED_PEM_PUBLIC_KEY } from '../helpers/keys.js'
import { startServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

test('a remote or OIDC provider without audiences is named in a warning at start', async (t) => {
  const idp = await new JwksServer().start()
  t.after(() => idp.close())
  idp.issuer = 'https://shared.idp'
  const dir = tempDir('jwt-ext-authz-warn')
  const remote = `{ remote: { url: ${idp.jwksUrl}, insecure: true } }`
  writeFileSync(
    join(dir, 'c.yaml'),
    `providers:
  open-remote: { issuer: https://a.test, jwks: ${remote} }
  open-oidc: { issuer: https://shared.idp, jwks: { oidc: { issuerUrl: ${idp.url}, insecure: true } } }
  scoped: { issuer: https://b.test, audiences: [llm-gateway], jwks: ${remote} }
  local: { issuer: solo.io, jwks: { local: { key: ${JSON.stringify(SEED_PEM_PUBLIC_KEY)} } } }
routes:
  - name: api
`,
  )
  const server = await startServeProcess(['--config', join(dir, 'c.yaml')])
  t.after(() => server.stop())
  // Warnings are written before the 'serving' line; the log may reach us after stdout.
  await server.logLine((line) => line.msg === 'serving')
  const warned = server
    .stderr()
    .split('\n')
    .filter((line) => line.includes('no audiences'))
    .map((line) => JSON.parse(line) as { level: number; provider: string; msg: string })
  assert.deepEqual(
    warned.map((w) => [w.level, w.provider]),
    [
      [40, 'open-remote'],
      [40, 'open-oidc'],
    ],
  )
  assert.match(warned[0]!.msg, /any token its identity provider issues/)
})
