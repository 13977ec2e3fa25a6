import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { CHART, configOf, helm, kind, renderChart } from '../deploy/manifest-docs.js'
import { tempDir } from '../helpers/temp-dir.js'

const BUDGETS = {
  limits: { 'user-model': { per: ['user', 'model'], requests: '60/minute' } },
}

test(
  'the Helm chart serves config.budgets, its schema refuses a typo there, its notes say what to run beside it',
  { skip: helm.skip },
  () => {
    const values = join(tempDir('helm-budgets'), 'values.yaml')
    writeFileSync(values, stringify({ config: { budgets: BUDGETS } }))
    const config = configOf(kind(renderChart([], [values]), 'ConfigMap'))
    assert.deepEqual(config.budgets?.limits, BUDGETS.limits)
    // helm renders NOTES.txt only on install, which needs a cluster even with --dry-run=client
    // (helm 3.22 here): its text is read as written.
    const notes = readFileSync(`${CHART}/templates/NOTES.txt`, 'utf8')
    const block = /\{\{- if [^}]*\.Values\.config\.budgets \}\}([\s\S]*?)\{\{- end \}\}/.exec(
      notes,
    )?.[1]
    assert.ok(block !== undefined, 'the notes have a block for config.budgets')
    assert.match(block, /jwt-ext-authz ratelimit-config --envoy --config config\.yaml/)
    assert.match(block, /envoy\/envoy-budgets\.yaml/)
    // A typo inside budgets is refused by the chart's values.schema.json.
    const lint = spawnSync(helm.bin, ['lint', CHART, '--set', 'config.budgets.limits.u.pr[0]=x'], {
      encoding: 'utf8',
    })
    assert.notEqual(lint.status, 0)
    assert.match(`${lint.stdout}${lint.stderr}`, /additional properties 'pr' not allowed/)
  },
)
