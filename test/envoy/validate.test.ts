import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse, stringify } from 'yaml'
import { ENVOY_VERSION, envoySkip, validateEnvoyConfig } from '../helpers/envoy.js'
import { tempDir } from '../helpers/temp-dir.js'

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

test(
  'envoy/clusters-providers.yaml replaces the LLM clusters of both bootstraps and validates',
  { skip },
  (t) => {
    const providers = parse(readFileSync('envoy/clusters-providers.yaml', 'utf8')) as {
      name: string
    }[]
    assert.deepEqual(
      providers.map((c) => c.name),
      ['openai', 'mistralai', 'huggingface'],
    )
    const dir = tempDir('envoy-providers')
    for (const file of ['envoy/envoy.yaml', 'envoy/envoy-http.yaml']) {
      const bootstrap = parse(readFileSync(file, 'utf8')) as {
        static_resources: { clusters: { name: string }[] }
      }
      const clusters = bootstrap.static_resources.clusters
      for (const cluster of providers) {
        const i = clusters.findIndex((c) => c.name === cluster.name)
        assert.notEqual(i, -1, `${file} has a ${cluster.name} cluster to replace`)
        clusters[i] = cluster
      }
      const merged = join(dir, file.replace('/', '-'))
      writeFileSync(merged, stringify(bootstrap))
      const { ok, output } = validateEnvoyConfig(merged)
      t.diagnostic(`${file} + envoy/clusters-providers.yaml: ${output.trim().split('\n').at(-1)}`)
      assert.ok(ok, output)
    }
  },
)

test('docker-compose.yml and scripts/install-envoy.sh pin the Envoy this suite runs', () => {
  const compose = readFileSync('docker-compose.yml', 'utf8')
  assert.match(
    compose,
    new RegExp(`image: envoyproxy/envoy:v${ENVOY_VERSION.replace(/\./g, '\\.')}\\b`),
  )
  const install = readFileSync('scripts/install-envoy.sh', 'utf8')
  assert.match(install, new RegExp(`^ENVOY_VERSION=${ENVOY_VERSION.replace(/\./g, '\\.')}$`, 'm'))
})
