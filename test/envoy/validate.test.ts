import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { test } from 'node:test'
import { envoySkip, validateEnvoyConfig } from '../helpers/envoy.js'

const skip = envoySkip()
const shipped = readdirSync('envoy')
  .filter((f) => /^envoy.*\.yaml$/.test(f))
  .map((f) => `envoy/${f}`)

test('every Envoy bootstrap we ship passes envoy --mode validate as shipped', { skip }, (t) => {
  assert.ok(shipped.includes('envoy/envoy.yaml') && shipped.includes('envoy/envoy-http.yaml'))
  for (const file of shipped) {
    const { ok, output } = validateEnvoyConfig(file)
    t.diagnostic(`${file}: ${output.trim().split('\n').at(-1)}`)
    assert.ok(ok, `${file}: ${output}`)
  }
})
