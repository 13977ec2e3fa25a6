import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ENVOY_VERSION, envoySkip, validateEnvoyConfig } from '../helpers/envoy.js'

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

test('docker-compose.yml and scripts/install-envoy.sh pin the Envoy this suite runs', () => {
  const compose = readFileSync('docker-compose.yml', 'utf8')
  assert.match(
    compose,
    new RegExp(`image: envoyproxy/envoy:v${ENVOY_VERSION.replace(/\./g, '\\.')}\\b`),
  )
  const install = readFileSync('scripts/install-envoy.sh', 'utf8')
  assert.match(install, new RegExp(`^ENVOY_VERSION=${ENVOY_VERSION.replace(/\./g, '\\.')}$`, 'm'))
})
