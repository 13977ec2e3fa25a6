import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { listening } from '../helpers/listening.js'
import { envoySkip } from '../helpers/envoy.js'
import { freePort, send } from '../helpers/gateway-scenarios.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'

const skip = envoySkip()

test(
  'npm run demo serves the seed callers through Envoy and Ctrl-C stops all of it',
  { skip },
  async () => {
    const port = await freePort()
    const demo = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/demo.ts', '--port', String(port)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    demo.stdout.on('data', (c: Buffer) => (out += c.toString()))
    demo.stderr.on('data', (c: Buffer) => (out += c.toString()))
    const exited = once(demo, 'exit')
    await new Promise<void>((resolve, reject) => {
      demo.stdout.on('data', () => out.includes('Ctrl-C stops all three') && resolve())
      void exited.then(() => reject(new Error(`demo exited: ${out}`)))
    })
    const grpcPort = Number(/jwt-ext-authz on 127\.0\.0\.1:(\d+)/.exec(out)![1])
    try {
      const base = `http://127.0.0.1:${port}/openai/v1/chat/completions`
      assert.equal(await listening(grpcPort), true)
      assert.ok(out.includes(`ALICE=${ALICE_TOKEN}`), 'the curl lines carry the seed tokens')

      const alice = await send(base, 'POST', { authorization: `Bearer ${ALICE_TOKEN}` }, '{}')
      assert.equal(alice.status, 200, alice.body)
      assert.equal(JSON.parse(alice.body).headers.authorization, 'Bearer demo-openai-key')
      assert.equal((await send(base, 'POST', { authorization: `Bearer ${BOB_TOKEN}` })).status, 403)
      assert.equal((await send(base, 'POST')).status, 401)
    } finally {
      demo.kill('SIGINT')
    }
    const [code] = await exited
    assert.equal(code, 0)
    assert.equal(await listening(port), false, 'Envoy stopped')
    assert.equal(await listening(grpcPort), false, 'jwt-ext-authz stopped')
  },
)
