import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import type { SecretSourceConfig } from '../../src/config/schema.js'
import { loadSecrets } from '../../src/secrets/store.js'

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-ext-authz-keys-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A directory laid out as kubelet mounts a Secret: `..data` -> a timestamped dir, links to it. */
function mountedSecret(dir: string, keys: Record<string, string>): void {
  mkdirSync(join(dir, '..2026_01_01'), { recursive: true })
  for (const [name, value] of Object.entries(keys))
    writeFileSync(join(dir, '..2026_01_01', name), `${value}\n`)
  symlinkSync('..2026_01_01', join(dir, '..data'))
  for (const name of Object.keys(keys)) symlinkSync(join('..data', name), join(dir, name))
}

const load = (sources: Record<string, SecretSourceConfig>, baseDir: string) =>
  loadSecrets(sources, { env: { K1: 'sk-env-1' }, baseDir })

test('a pool reads listed keys and a mounted Secret directory, skipping dotfiles and subdirectories', (t) => {
  const base = tempDir(t)
  mountedSecret(join(base, 'pool'), { 'key-a': 'sk-dir-a', 'key-b': 'sk-dir-b' })
  mkdirSync(join(base, 'pool', 'nested'))
  writeFileSync(join(base, 'pool', '.hidden'), 'sk-hidden')
  const { store, errors } = load(
    {
      p: {
        headers: { 'OpenAI-Organization': 'org-all' },
        pool: {
          by: 'org.team',
          keys: [
            { id: 'key-env', env: 'K1', weight: 2, headers: { 'openai-organization': 'org-1' } },
          ],
          directory: 'pool',
        },
      },
    },
    base,
  )
  assert.deepEqual(errors, [])
  const pool = store.keys('p')
  assert.ok(pool?.kind === 'pool')
  assert.deepEqual(pool.by, ['org', 'team'])
  assert.deepEqual(
    pool.keys.map((k) => [k.id, k.value, k.weight, k.headers]),
    [
      ['key-a', 'sk-dir-a', 1, [{ name: 'openai-organization', value: 'org-all' }]],
      ['key-b', 'sk-dir-b', 1, [{ name: 'openai-organization', value: 'org-all' }]],
      ['key-env', 'sk-env-1', 2, [{ name: 'openai-organization', value: 'org-1' }]],
    ],
  )
})

test('directory keys are refused with the file named, never a value: bad names, repeated ids, empty files', (t) => {
  const base = tempDir(t)
  mkdirSync(join(base, 'bad'))
  writeFileSync(join(base, 'bad', 'has space'), 'sk-secret-1')
  mkdirSync(join(base, 'dup'))
  writeFileSync(join(base, 'dup', 'k1'), 'sk-secret-2')
  writeFileSync(join(base, 'dup', 'single'), 'sk-secret-3')
  writeFileSync(join(base, 'dup', 'empty'), '\n')
  const { errors } = load(
    {
      single: { env: 'K1' },
      a: { pool: { directory: 'bad' } },
      b: { pool: { keys: [{ id: 'k1', env: 'K1' }], directory: 'dup' } },
      c: { pool: { directory: 'missing' } },
    },
    base,
  )
  const text = errors.map((e) => `${e.path}: ${e.message}`)
  assert.deepEqual(text, [
    `secrets.a.pool.directory: key file ${join(base, 'bad', 'has space')}: its name is not a key id (^[A-Za-z0-9_.-]+$)`,
    `secrets.b.pool.directory: secret file ${join(base, 'dup', 'empty')} is empty`,
    'secrets.b.pool.directory: key id k1 is already in this pool',
    `secrets.c.pool.directory: cannot read key directory ${join(base, 'missing')} (ENOENT)`,
  ])
  for (const secret of ['sk-secret-1', 'sk-secret-2', 'sk-secret-3', 'sk-env-1'])
    assert.ok(!JSON.stringify(errors).includes(secret))
})

test('a directory key named like another secret is refused: a key id names one key', (t) => {
  const base = tempDir(t)
  mkdirSync(join(base, 'd'))
  writeFileSync(join(base, 'd', 'single'), 'sk-dir')
  const { errors } = load({ single: { env: 'K1' }, p: { pool: { directory: 'd' } } }, base)
  assert.deepEqual(errors, [
    {
      path: 'secrets.p',
      message: 'key id single already names a key of single: ids must be unique',
    },
  ])
})

test('describe names every key and where it comes from, with its weight, and no value', (t) => {
  const base = tempDir(t)
  const { store } = load(
    {
      s: { env: 'K1' },
      p: {
        pool: {
          keys: [
            { id: 'k1', env: 'K1' },
            { id: 'k2', env: 'K2', default: 'sk-demo', weight: 0 },
          ],
        },
      },
    },
    base,
  )
  assert.deepEqual(store.describe(), [
    's: env K1 (set) = [redacted]',
    'p: pool by sub, key k1 (weight 1): env K1 (set) = [redacted]',
    'p: pool by sub, key k2 (weight 0): env K2 (unset, demo default) = [redacted]',
  ])
  assert.deepEqual(store.defaulted(), ['p/k2'])
})
