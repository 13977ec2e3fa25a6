import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { EngineHolder } from '../../src/engine/holder.js'
import { loadEngine } from '../../src/engine/load.js'
import { createLogger } from '../../src/ops/log.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { ConfigReloader } from '../../src/ops/reload.js'
import { tempDir } from '../helpers/temp-dir.js'

function config(grpc: string, httpAuthz = '127.0.0.1:9002'): string {
  return `listen: { grpc: "${grpc}", http: "127.0.0.1:9090", httpAuthz: "${httpAuthz}" }
routes:
  - name: open
    allowAnonymous: true
`
}

test('the listen warning compares with the addresses bound at start, all three of them', (t) => {
  const file = join(tempDir('jwt-ext-authz-reload'), 'config.yaml')
  writeFileSync(file, config('127.0.0.1:9001'))
  const lines: { msg: string; keys?: string[] }[] = []
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) })
  const build = () => loadEngine(file, { env: {} })
  const reloader = new ConfigReloader({
    configFile: file,
    holder: new EngineHolder(build()),
    build,
    log,
    metrics: createMetrics(),
  })
  t.after(() => reloader.close())
  const warnings = () => lines.filter((l) => l.msg.startsWith('listen addresses'))

  writeFileSync(file, config('127.0.0.1:9101'))
  assert.equal(reloader.reload('test'), true)
  assert.deepEqual(warnings().at(-1)?.keys, ['listen.grpc'])
  assert.equal(
    warnings().at(-1)?.msg,
    'listen addresses differ from those bound at start: restart to use them',
  )

  writeFileSync(file, config('127.0.0.1:9001'))
  assert.equal(reloader.reload('test'), true)
  assert.equal(warnings().length, 1, 'changed back to the bound addresses: nothing to warn')

  writeFileSync(file, config('127.0.0.1:9001', '127.0.0.1:9102'))
  assert.equal(reloader.reload('test'), true)
  assert.deepEqual(warnings().at(-1)?.keys, ['listen.httpAuthz'], 'httpAuthz counts too')
  assert.equal(warnings().length, 2)
})
