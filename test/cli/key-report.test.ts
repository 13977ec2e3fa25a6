import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { CheckResponse } from '../../src/proto/types.js'
import { HF_TOKEN, SEED_PEM_PUBLIC_KEY } from '../helpers/keys.js'
import { CLI_TIMEOUT_MS, MAIN } from '../helpers/main-command.js'
import { startServeProcess } from '../helpers/serve-process.js'

const POOL_ENV = {
  OPENAI_KEY_1: 'sk-pool-key-one-111',
  OPENAI_KEY_2: 'sk-pool-key-two-222',
  OPENAI_KEY_3: 'sk-pool-key-three-333',
}

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: CLI_TIMEOUT_MS,
  })
}

test('validate says how each route chooses its key and, for given claims, which one: ids, never values', () => {
  const pool = cli(['validate', '--config', 'examples/key-pool.yaml'], POOL_ENV)
  assert.equal(pool.status, 0, pool.stderr)
  assert.match(
    pool.stdout,
    /keys:\n {2}openai: authorization from pool openai by sub: openai-1 \(weight 1\), openai-2 \(weight 1\), openai-3 \(weight 1\)\n/,
  )
  const subs = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']
  const chosen = subs.map((sub) => {
    const res = cli(
      ['validate', '--config', 'examples/key-pool.yaml', '--claim', `sub=${sub}`],
      POOL_ENV,
    )
    assert.equal(res.status, 0, res.stderr)
    return /keys for \{"sub":"[a-z]+"\}:\n {2}openai: key (openai-[123])\n/.exec(res.stdout)?.[1]
  })
  assert.ok(
    chosen.every((id) => id !== undefined),
    chosen.join(),
  )
  assert.ok(new Set(chosen).size > 1, 'callers spread over the keys')
  const teams = cli(['validate', '--config', 'examples/team-keys.yaml', '--claim', 'team=ops'])
  assert.match(teams.stdout, /keys for \{"team":"ops"\}:\n {2}openai: denied \(no_provider_key\)\n/)
  for (const res of [pool, teams])
    for (const key of Object.values(POOL_ENV)) assert.ok(!res.stdout.includes(key))
})

test('check --json shows key_id and masks a key written to dynamic_metadata for AI Gateway', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-ext-authz-keys-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const config = join(dir, 'config.yaml')
  writeFileSync(
    config,
    `secrets:
  data: { env: KEY_DATA }
providers:
  solo: { issuer: solo.io, jwks: { local: { key: ${JSON.stringify(SEED_PEM_PUBLIC_KEY)} } } }
routes:
  - name: openai
    match: { prefix: /v1/ }
    upstream:
      headers:
        authorization: { secret: { claim: team, map: { data: data } }, prefix: "Bearer " }
      credentialMetadata: {}
`,
  )
  const server = await startServeProcess(['--config', config, '--log-level', 'silent'], {
    KEY_DATA: 'sk-data-team-key-0042',
  })
  t.after(() => server.stop())
  const check = (...extra: string[]) =>
    cli([
      'check',
      '--address',
      server.grpc,
      '--path',
      '/v1/chat/completions',
      '--token',
      HF_TOKEN,
      '--json',
      ...extra,
    ])
  const masked = check()
  assert.equal(masked.status, 0, masked.stderr)
  assert.ok(!masked.stdout.includes('sk-data-team-key-0042'), 'masked in headers and metadata')
  const fields = (JSON.parse(masked.stdout) as CheckResponse).dynamic_metadata?.fields ?? {}
  assert.equal(fields.key_id?.stringValue, 'data')
  assert.equal(fields['x-aigw-api-key']?.stringValue, 'sk-d… (21 chars; --show-secrets to print)')
  const shown = JSON.parse(check('--show-secrets').stdout) as CheckResponse
  assert.equal(
    shown.dynamic_metadata?.fields?.['x-aigw-api-key']?.stringValue,
    'sk-data-team-key-0042',
  )
})
