import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { listening } from '../helpers/listening.js'
import { envoySkip } from '../helpers/envoy.js'
import { send } from '../helpers/gateway-scenarios.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'

const skip = envoySkip()
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

interface Demo {
  readonly proc: ChildProcess
  readonly exited: Promise<unknown[]>
  /** Resolves when the demo says it stopped its three processes (npm may exit before). */
  readonly stopped: Promise<void>
  readonly envoy: number
  readonly grpc: number
  readonly echo: number
  readonly out: () => string
}

/** `npm run demo -- <args>` as a user runs it, resolved once it says it is ready. */
async function startDemo(args: string[]): Promise<Demo> {
  const proc = spawn(NPM, ['run', '--silent', 'demo', '--', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()))
  const exited = once(proc, 'exit')
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', () => out.includes('Ctrl-C stops all three') && resolve())
    void exited.then(() => reject(new Error(`demo exited: ${out}`)))
  })
  const port = (re: RegExp) => Number(re.exec(out)![1])
  const stopped = new Promise<void>((resolve) => {
    const said = () => out.includes('Stopped Envoy, jwt-ext-authz and the echo upstream.')
    proc.stdout!.on('data', () => said() && resolve())
    proc.stdout!.once('close', () => resolve())
  })
  return {
    proc,
    exited,
    stopped,
    envoy: port(/^Envoy \S+ on http:\/\/127\.0\.0\.1:(\d+)/m),
    grpc: port(/jwt-ext-authz on 127\.0\.0\.1:(\d+)/),
    echo: port(/echo upstream on 127\.0\.0\.1:(\d+)/),
    out: () => out,
  }
}

async function assertAllStopped(demo: Demo): Promise<void> {
  for (const [what, port] of [
    ['Envoy', demo.envoy],
    ['jwt-ext-authz', demo.grpc],
    ['the echo upstream', demo.echo],
  ] as const)
    assert.equal(await listening(port), false, `${what} stopped`)
}

test(
  'npm run demo serves the seed callers through Envoy and Ctrl-C stops all of it',
  { skip },
  async () => {
    const demo = await startDemo(['--port', '0'])
    try {
      const base = `http://127.0.0.1:${demo.envoy}/openai/v1/chat/completions`
      assert.equal(await listening(demo.grpc), true)
      assert.ok(demo.out().includes(`ALICE=${ALICE_TOKEN}`), 'the curl lines carry the seed tokens')

      const alice = await send(base, 'POST', { authorization: `Bearer ${ALICE_TOKEN}` }, '{}')
      assert.equal(alice.status, 200, alice.body)
      const echoed = JSON.parse(alice.body) as { path: string; headers: Record<string, string> }
      assert.equal(echoed.headers.authorization, 'Bearer demo-openai-key')
      assert.equal(echoed.path, '/v1/chat/completions', 'as the demo text says')
      assert.equal((await send(base, 'POST', { authorization: `Bearer ${BOB_TOKEN}` })).status, 403)
      assert.equal((await send(base, 'POST')).status, 401)
    } finally {
      demo.proc.kill('SIGINT')
    }
    const [code] = await demo.exited
    assert.equal(code, 0)
    await demo.stopped
    await assertAllStopped(demo)
  },
)

test(
  'npm run demo & then kill $! stops Envoy, jwt-ext-authz and the echo upstream',
  { skip },
  async () => {
    const demo = await startDemo(['--port', '0'])
    // $! of `npm run demo &` is npm's pid: the script execs node, so the signal reaches the demo.
    demo.proc.kill('SIGTERM')
    await demo.exited
    await demo.stopped
    assert.match(demo.out(), /Stopped Envoy, jwt-ext-authz and the echo upstream\./)
    await assertAllStopped(demo)
  },
)

test('npm run demo on a busy port, or with a bad flag: one line naming --port, no stack', async () => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const busy = (taken.address() as { port: number }).port
  try {
    for (const args of [
      ['--port', String(busy)],
      ['--prot', '9000'],
      ['--port', 'http'],
    ]) {
      const run = spawnSync(NPM, ['run', '--silent', 'demo', '--', ...args], { encoding: 'utf8' })
      const said = `${run.stdout}${run.stderr}`.trim()
      assert.equal(run.status, 2, said)
      assert.match(said, /--port/, args.join(' '))
      assert.doesNotMatch(said, /^\s+at /m, 'no stack trace')
      assert.equal(said.split('\n').length, 1, said)
    }
  } finally {
    taken.close()
  }
})
