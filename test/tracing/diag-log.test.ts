import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { createLogger } from '../../src/ops/log.js'
import { diagToLog } from '../../src/tracing/diag-log.js'

function capture() {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { log: createLogger('info', sink), lines }
}

test('SDK diagnostics: one line per 30 s, the suppressed ones counted, short, info dropped', async () => {
  const { log, lines } = capture()
  let now = 0
  const diag = diagToLog(log, () => now)
  diag.error('export failed', new Error('connect ECONNREFUSED 127.0.0.1:4318'))
  for (let i = 0; i < 50; i++) diag.error('export failed', new Error('again'))
  diag.info('not logged')
  now = 30_000
  diag.warn('x'.repeat(1000))
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(lines.length, 2)
  assert.equal(lines[0]!.msg, 'export failed connect ECONNREFUSED 127.0.0.1:4318')
  assert.equal(lines[0]!.component, 'opentelemetry')
  assert.equal(lines[0]!.suppressed, undefined)
  assert.equal(lines[1]!.suppressed, 50)
  assert.equal((lines[1]!.msg as string).length, 300)
})
