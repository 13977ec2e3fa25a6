import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import type { CheckResponse } from '../../src/proto/types.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import { CLI_TIMEOUT_MS, MAIN } from '../helpers/main-command.js'
import { startServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

const CLI = MAIN

/** Writes a config into a fresh temp directory and returns its path. */
function tempConfig(yaml: string): string {
  const file = join(tempDir('jwt-ext-authz'), 'config.yaml')
  writeFileSync(file, yaml)
  return file
}

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: CLI_TIMEOUT_MS,
  })
}

test('validate accepts the bundled example and lists every error of a broken config with its path', () => {
  const ok = cli(['validate', '--config', 'examples/llm-gateway.yaml'])
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, /valid \(2 providers, 4 routes: openai, mistralai, huggingface, llm-d\)/)

  const bad = tempConfig(
    'routes:\n  - name: r\n    match: { regex: "(" }\n    rbac: { policies: { p: { principals: [{ jwtPrincipal: { claims: { a: b }, matcher: NOPE } }] } } }\n',
  )
  const res = cli(['validate', '--config', bad])
  assert.equal(res.status, 1)
  assert.match(
    res.stderr,
    /routes\[0\]\.rbac\.policies\.p\.principals\[0\]\.jwtPrincipal\.matcher: expected one of EXACT_STRING \| BOOLEAN \| LIST_CONTAINS/,
  )
})

test('the OIDC example validates without its IdP being reachable', () => {
  const res = cli(['validate', '--config', 'examples/oidc.yaml'])
  assert.equal(res.status, 0, res.stderr)
  assert.match(res.stdout, /valid \(1 providers, 2 routes: models, chat\)/)
})

test('a missing secret env var without a default is a start-up error naming it', () => {
  const file = tempConfig(
    'secrets:\n  openai: { env: JWT_EXT_AUTHZ_TEST_UNSET_KEY }\nroutes:\n  - name: open\n    allowAnonymous: true\n',
  )
  const res = cli(['validate', '--config', file])
  assert.equal(res.status, 1)
  assert.match(
    res.stderr,
    /secrets\.openai: environment variable JWT_EXT_AUTHZ_TEST_UNSET_KEY is not set/,
  )
})

test('serve runs the example config and check prints allow and deny decisions against it', async (t) => {
  const server = await startServeProcess(['--log-level', 'silent'], {
    OPENAI_API_KEY: 'sk-cli-test-key',
  })
  t.after(() => server.stop())
  const address = server.grpc
  const checkOpenai = (...args: string[]) =>
    cli(['check', '--address', address, '--path', '/openai', '--method', 'POST', ...args])
  const allowed = checkOpenai('--token', ALICE_TOKEN)
  assert.equal(allowed.status, 0, allowed.stderr)
  assert.match(allowed.stdout, /^ALLOWED/)
  assert.match(allowed.stdout, /authorization: Bearer sk-c… \(15 chars; --show-secrets to print\)/)
  assert.ok(!allowed.stdout.includes('sk-cli-test-key'), 'the key is masked by default')
  assert.match(allowed.stdout, /x-user-id: alice/)

  const json = checkOpenai('--token', ALICE_TOKEN, '--json')
  assert.equal(json.status, 0, json.stderr)
  assert.ok(!json.stdout.includes('sk-cli-test-key'), '--json masks the injected key too')
  const printed = JSON.parse(json.stdout) as CheckResponse
  const injected = printed.ok_response?.headers?.find((h) => h.header?.key === 'authorization')
  assert.equal(injected?.header?.value, 'Bearer sk-c… (15 chars; --show-secrets to print)')
  const shown = checkOpenai('--token', ALICE_TOKEN, '--json', '--show-secrets')
  assert.match(shown.stdout, /"value": "Bearer sk-cli-test-key"/)

  const denied = checkOpenai('--token', BOB_TOKEN)
  assert.equal(denied.status, 1)
  assert.match(denied.stdout, /DENIED {2}HTTP 403 {2}\(gRPC status 7, reason rbac_denied\)/)
  assert.match(denied.stdout, /body: RBAC: access denied/)

  const modelAware = checkOpenai('--token', ALICE_TOKEN, '--body', '{"model":"gpt-4o-mini"}')
  assert.equal(
    modelAware.status,
    0,
    'the bundled example keeps the seed rule: the body is not consulted',
  )

  const missing = cli(['check', '--address', address, '--path', '/openai', '--host', 'gw:8080'])
  assert.equal(missing.status, 1)
  assert.match(missing.stdout, /www-authenticate: Bearer realm="http:\/\/gw:8080\/openai"/)

  assert.equal(await server.stop('SIGTERM'), 0, 'SIGTERM stops serve cleanly')
})

test('check with nothing listening says so in one line, naming the address and serve', async () => {
  // A port that was just free: nothing listens there.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const address = `127.0.0.1:${(probe.address() as { port: number }).port}`
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const res = cli(['check', '--address', address, '--path', '/openai'])
  assert.equal(res.status, 2)
  const said = res.stderr.trim()
  assert.equal(said.split('\n').length, 1, said)
  assert.match(
    said,
    new RegExp(
      `^check: nothing answers gRPC Check on ${address}: start the service \\(jwt-ext-authz serve`,
    ),
  )
  assert.doesNotMatch(said, /ECONNREFUSED|Resolution note/)
})
