import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { listening } from '../helpers/listening.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('npm start run in the background and killed by its pid stops the server', async (t) => {
  const npm = spawn(
    'npm',
    [
      'start',
      '--silent',
      '--',
      '--grpc',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--http-authz',
      '127.0.0.1:0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()))
  let servePid: number | undefined
  t.after(() => {
    // Whatever the outcome, leave no server behind.
    if (servePid !== undefined && alive(servePid)) process.kill(servePid, 'SIGKILL')
    if (npm.exitCode === null) npm.kill('SIGKILL')
    // An orphaned server would hold these pipes, and this test process, open.
    npm.stdout.destroy()
    npm.stderr.destroy()
  })
  // The ports come on stdout, the server's pid with its 'serving' log line on stderr.
  let out = ''
  let err = ''
  const started = new Promise<number[]>((resolve, reject) => {
    const seen = (): void => {
      servePid ??= Number(/"pid":(\d+),[^\n]*"msg":"serving"/.exec(err)?.[1]) || undefined
      const m = /Check on \S+:(\d+) \(gRPC\), on \S+:(\d+) \(HTTP\), ops on \S+:(\d+)/.exec(out)
      if (m && servePid !== undefined) resolve([Number(m[1]), Number(m[2]), Number(m[3])])
    }
    npm.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      seen()
    })
    npm.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
      seen()
    })
    void exited.then(() => reject(new Error(`npm start exited early: ${err}`)))
  })
  const ports = await started
  for (const port of ports) assert.equal(await listening(port), true, `serving on ${port}`)
  assert.notEqual(servePid, npm.pid, 'the server runs under npm')

  npm.kill('SIGTERM') // what `kill $!` does after `npm start &`
  let timer: NodeJS.Timeout | undefined
  const gone = await Promise.race([
    exited.then(() => true),
    // npm waits for the server it forwarded the signal to: a bound, not a sleep.
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 60_000))),
  ])
  clearTimeout(timer)
  assert.ok(gone, 'npm exits after SIGTERM')
  for (const port of ports)
    assert.equal(await listening(port), false, `port ${port} is free once npm has exited`)
  assert.equal(alive(servePid!), false, 'no node ... serve left running')
})
