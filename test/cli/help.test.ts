import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import type { CommandSpec } from '../../src/cli/command.js'
import { CHECK, KEYS_GENERATE, SCHEMA, SERVE, TOKEN, VALIDATE } from '../../src/cli/specs.js'
import { CLI_TIMEOUT_MS, MAIN } from '../helpers/main-command.js'
import { tempDir } from '../helpers/temp-dir.js'

interface Result {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The real CLI as a process; `cwd` for commands that write. */
function cli(args: readonly string[], cwd = process.cwd()): Promise<Result> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...MAIN, ...args],
      { cwd, timeout: CLI_TIMEOUT_MS, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const status = err === null ? 0 : typeof err.code === 'number' ? err.code : null
        done({ status, stdout, stderr })
      },
    )
  })
}

/** A JavaScript stack line, which a user should never see for their own mistake. */
const STACK = /^\s+at .+[(:]\d+/m

const COMMANDS: readonly CommandSpec[] = [SERVE, VALIDATE, CHECK, KEYS_GENERATE, TOKEN, SCHEMA]

test('every command answers --help and -h with its own options and exits 0', async () => {
  // -h is the same parser path for every command: once is enough.
  const runs = [...COMMANDS.map((spec) => [spec, '--help'] as const), [CHECK, '-h'] as const].map(
    async ([spec, flag]) => {
      const res = await cli([...spec.name.split(' '), flag])
      assert.equal(res.status, 0, `${spec.name} ${flag}: ${res.stderr}`)
      assert.ok(res.stdout.startsWith(`usage: jwt-ext-authz ${spec.name}`), res.stdout)
      for (const option of Object.keys(spec.options))
        assert.ok(res.stdout.includes(`--${option}`), `${spec.name} --help names --${option}`)
      assert.equal(res.stderr, '')
    },
  )
  await Promise.all(runs)
  const keys = await cli(['keys', '--help'])
  assert.equal(keys.status, 0)
  assert.match(keys.stdout, /usage: jwt-ext-authz keys generate/)
  const top = await cli(['--help'])
  assert.equal(top.status, 0)
  for (const name of ['serve', 'validate', 'check', 'keys', 'token', 'schema', 'version'])
    assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'))
})

test('--version and version print the version of package.json', async () => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
  for (const args of [['--version'], ['version']]) {
    const res = await cli(args)
    assert.equal(res.status, 0)
    assert.equal(res.stdout, `jwt-ext-authz ${version}\n`)
  }
})

const MISTAKES: readonly { args: string[]; says: RegExp; usage: string }[] = [
  { args: ['serve', '--nope'], says: /unknown option --nope$/, usage: 'serve' },
  {
    args: ['check', '--adress', 'x'],
    says: /unknown option --adress; did you mean --address\?/,
    usage: 'check',
  },
  { args: ['serve', '--confg', 'x'], says: /did you mean --config\?/, usage: 'serve' },
  { args: ['serve', '--workers', '0'], says: /--workers takes a whole number/, usage: 'serve' },
  { args: ['serve', '--log-level', 'loud'], says: /--log-level takes fatal\|/, usage: 'serve' },
  { args: ['serve', 'extra'], says: /Unexpected argument 'extra'/, usage: 'serve' },
  { args: ['validate'], says: /--config FILE is required/, usage: 'validate' },
  { args: ['check', '--header', 'no-colon'], says: /'name: value'/, usage: 'check' },
  { args: ['check', '--timeout', '5s'], says: /--timeout takes milliseconds/, usage: 'check' },
  { args: ['keys'], says: /a subcommand is needed: generate/, usage: 'keys' },
  { args: ['keys', 'rotate'], says: /unknown keys subcommand: rotate$/, usage: 'keys' },
  { args: ['keys', 'genrate'], says: /did you mean generate\?/, usage: 'keys' },
  {
    args: ['keys', 'generate', '--alg', 'HS1'],
    says: /--alg must be one of/,
    usage: 'keys generate',
  },
  { args: ['token'], says: /exactly one of --key FILE or --secret RAW/, usage: 'token' },
  { args: ['token', '--key', '/nonexistent.jwk'], says: /cannot read \(ENOENT\)/, usage: 'token' },
  { args: ['token', '--secret', 's', '--ttl', 'soon'], says: /--ttl takes/, usage: 'token' },
  { args: ['token', '--secret', 's', '--claim', 'x'], says: /name=value/, usage: 'token' },
]

test('a usage error is one line, the usage of that command and exit 2, never a stack', async () => {
  await Promise.all(
    MISTAKES.map(async ({ args, says, usage }) => {
      const res = await cli(args)
      assert.equal(res.status, 2, `${args.join(' ')}: ${res.stderr}`)
      const [first, second] = res.stderr.split('\n')
      assert.match(first!, new RegExp(`^jwt-ext-authz ${usage}: `), res.stderr)
      assert.match(first!, says)
      assert.ok(second!.startsWith(`usage: jwt-ext-authz ${usage}`), res.stderr)
      assert.doesNotMatch(res.stderr, STACK)
      assert.equal(res.stdout, '')
    }),
  )
  const unknown = await cli(['serv'])
  assert.equal(unknown.status, 2)
  assert.match(unknown.stderr, /^jwt-ext-authz: unknown command serv; did you mean serve\?\n/)
  const valdiate = await cli(['valdiate'])
  assert.match(
    valdiate.stderr,
    /^jwt-ext-authz: unknown command valdiate; did you mean validate\?\n/,
  )
  const far = await cli(['deploy'])
  assert.match(far.stderr, /^jwt-ext-authz: unknown command deploy\n/, 'no guess when none is near')
  const none = await cli([])
  assert.equal(none.status, 2)
  assert.match(none.stderr, /^usage: jwt-ext-authz <command>/)
})

async function occupiedPort(t: { after(fn: () => void): void }): Promise<number> {
  const server: Server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  t.after(() => server.close())
  return (server.address() as { port: number }).port
}

for (const flag of ['--grpc', '--http-authz', '--http'] as const) {
  test(`serve with ${flag} on a port in use names the address and the flag, and exits 1`, async (t) => {
    const port = await occupiedPort(t)
    const free = { '--grpc': '127.0.0.1:0', '--http-authz': '127.0.0.1:0', '--http': '127.0.0.1:0' }
    const listen = { ...free, [flag]: `127.0.0.1:${port}` }
    const res = await cli(['serve', '--log-level', 'silent', ...Object.entries(listen).flat()])
    assert.equal(res.status, 1, 'exits, not held open by the listeners already bound')
    assert.match(
      res.stderr,
      new RegExp(
        `^jwt-ext-authz serve: cannot listen on 127\\.0\\.0\\.1:${port} \\(${flag} or listen\\.\\w+\\): the address is in use\\. Is another jwt-ext-authz already running\\? Stop it, or pick another with ${flag} HOST:PORT`,
        'm',
      ),
    )
    assert.doesNotMatch(res.stderr, STACK)
    assert.doesNotMatch(res.stderr, /^E No address added/m, 'grpc-js lines go through our log')
  })
}

test('serve --workers 2 on a gRPC port in use says so once per worker and exits 1', async (t) => {
  const port = await occupiedPort(t)
  const res = await cli([
    'serve',
    '--workers',
    '2',
    '--log-level',
    'silent',
    '--grpc',
    `127.0.0.1:${port}`,
    '--http',
    '127.0.0.1:0',
    '--http-authz',
    '127.0.0.1:0',
  ])
  assert.equal(res.status, 1, 'the primary stops instead of forking workers forever')
  assert.match(res.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(--grpc`))
  assert.doesNotMatch(res.stderr, STACK)
})

test('keys generate without --out writes into a new ./keys folder, says so, and never overwrites', async () => {
  const cwd = tempDir('jwt-ext-authz-keys')
  const first = await cli(['keys', 'generate', '--alg', 'ES256', '--kid', 'k1'], cwd)
  assert.equal(first.status, 0, first.stderr)
  assert.match(first.stdout, /^no --out given: writing into \.\/keys\/$/m)
  assert.match(first.stdout, /^wrote keys\/private\.jwk\.json /m)
  assert.ok(!existsSync(join(cwd, 'private.jwk.json')), 'nothing loose in the working directory')
  const keyFile = join(cwd, 'keys', 'private.jwk.json')
  assert.equal(statSync(keyFile).mode & 0o777, 0o600)
  assert.equal(statSync(join(cwd, 'keys')).mode & 0o777, 0o700)
  const before = readFileSync(keyFile, 'utf8')

  const again = await cli(['keys', 'generate', '--alg', 'ES256'], cwd)
  assert.equal(again.status, 1)
  assert.match(
    again.stderr,
    /^jwt-ext-authz keys: keys\/private\.jwk\.json exists; not overwriting a key \(remove it or pick another --out\)\n$/,
  )
  assert.equal(readFileSync(keyFile, 'utf8'), before, 'the existing key is untouched')
})
