import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir } from '../helpers/temp-dir.js'

// The reporter npm test runs beside spec (scripts/test/run.ts).
const reporter = 'scripts/test/skipped-reporter.mjs'

function runWithReporter(source: string): string {
  const file = join(tempDir('skipped-reporter'), 'fixture.test.mjs')
  writeFileSync(file, source)
  // Without NODE_TEST_CONTEXT: with it, a child of a test run reports to its parent runner.
  const { NODE_TEST_CONTEXT: _parent, ...env } = process.env
  const run = spawnSync(process.execPath, ['--test', `--test-reporter=./${reporter}`, file], {
    encoding: 'utf8',
    env,
  })
  return run.stdout
}

test('npm test ends with every skipped test, grouped by the reason that names its install command', () => {
  const out = runWithReporter(`
import { describe, test } from 'node:test'
const envoy = 'Envoy not installed: run scripts/install-envoy.sh'
test('runs', () => {})
test('needs Envoy', { skip: envoy }, () => {})
describe('an Envoy suite', { skip: envoy }, () => { test('inside', () => {}) })
test('needs nginx', { skip: 'nginx not installed (apt-get install nginx)' }, () => {})
`)
  assert.match(out, /Skipped, and what would run them:/)
  assert.match(
    out,
    /- Envoy not installed: run scripts\/install-envoy\.sh \(2 skipped\)\n {4}needs Envoy/,
  )
  assert.match(out, /- nginx not installed \(apt-get install nginx\) \(1 skipped\)/)
  assert.doesNotMatch(out, /runs/)
})

test('a run that skipped nothing says so', () => {
  const out = runWithReporter(`import { test } from 'node:test'\ntest('runs', () => {})\n`)
  assert.match(out, /Nothing skipped: every suite ran/)
})
