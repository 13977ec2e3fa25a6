import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { fromStruct } from '../../src/proto/struct.js'
import { checkRequest } from '../helpers/check-request.js'
import { createCheckClient } from '../helpers/check-client.js'
import { startServeProcess } from '../helpers/serve-process.js'

/** Writes `keys` as kubelet updates a mounted Secret: a new timestamped dir, `..data` swapped. */
function writeMountedSecret(dir: string, version: string, keys: Record<string, string>): void {
  mkdirSync(join(dir, version))
  for (const [name, value] of Object.entries(keys)) writeFileSync(join(dir, version, name), value)
  symlinkSync(version, join(dir, '..data_tmp'))
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
  for (const name of Object.keys(keys)) {
    rmSync(join(dir, name), { force: true })
    symlinkSync(join('..data', name), join(dir, name))
  }
}

test('a key added to a mounted Secret directory is reloaded: callers move only to the new key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-ext-authz-pool-dir-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const keysDir = join(dir, 'openai-pool')
  mkdirSync(keysDir)
  writeMountedSecret(keysDir, '..2026_01_01', { k1: 'sk-dir-1\n', k2: 'sk-dir-2\n' })
  const pair = await generateKeyPair('ES256', { extractable: true })
  const jwks = JSON.stringify({ keys: [await exportJWK(pair.publicKey)] })
  const config = join(dir, 'config.yaml')
  writeFileSync(
    config,
    `secrets:
  openai: { pool: { directory: openai-pool } }
providers:
  test: { issuer: pool.test, jwks: { local: { key: ${JSON.stringify(jwks)} } } }
routes:
  - name: openai
    upstream: { headers: { authorization: { secret: openai, prefix: "Bearer " } } }
`,
  )
  const server = await startServeProcess(['--config', config])
  t.after(() => server.stop())
  const client = createCheckClient(server.grpc)
  t.after(() => client.close())
  const subs = Array.from({ length: 60 }, (_, i) => `caller-${i}`)
  const tokens = await Promise.all(
    subs.map((sub) =>
      new SignJWT({ sub })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer('pool.test')
        .sign(pair.privateKey),
    ),
  )
  const keyIds = async () => {
    const ids: string[] = []
    for (const token of tokens) {
      const res = await client.check(
        checkRequest({ path: '/v1/models', headers: { authorization: `Bearer ${token}` } }),
      )
      assert.equal(res.status?.code, 0, res.status?.message)
      ids.push(String(fromStruct(res.dynamic_metadata ?? {}).key_id))
    }
    return ids
  }
  const before = await keyIds()
  assert.deepEqual(new Set(before), new Set(['k1', 'k2']))

  const mark = server.logCount()
  writeMountedSecret(keysDir, '..2026_01_02', {
    k1: 'sk-dir-1\n',
    k2: 'sk-dir-2\n',
    k3: 'sk-dir-3\n',
  })
  await server.logLine((l) => l.msg === 'config reloaded', mark)
  const after = await keyIds()
  const moved = subs.filter((_, i) => after[i] !== before[i])
  t.diagnostic(`${moved.length} of ${subs.length} callers moved to the new key`)
  assert.ok(moved.length > 0, 'the new key takes callers')
  for (const [i, id] of after.entries()) if (id !== before[i]) assert.equal(id, 'k3', subs[i])
})
