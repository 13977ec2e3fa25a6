import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Ajv } from 'ajv'
import { parse, stringify } from 'yaml'
import { configJsonSchema, configJsonSchemaText } from '../../src/config/json-schema.js'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'

const PUBLISHED = 'schema/config.schema.json'
const HELM_VALUES = 'deploy/helm/jwt-ext-authz/values.yaml'
const HEADER = '# yaml-language-server: $schema=../schema/config.schema.json\n'

/** A real JSON Schema validator, strict: an unknown keyword in our output is an error too. */
const validateSchema = new Ajv({ strict: true, allErrors: true }).compile(configJsonSchema())

function schemaErrors(data: unknown): string[] {
  return validateSchema(data)
    ? []
    : (validateSchema.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)
}

/**
 * Configs shipped under deploy/: each `*.yaml` data entry of a ConfigMap manifest, and the
 * Helm chart's `config` value (the chart adds `listen` from its ports).
 */
function deployedConfigs(): { name: string; text: string }[] {
  const found: { name: string; text: string }[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      // Helm templates are not YAML until rendered; the chart's values are checked below.
      if (entry.isDirectory()) {
        if (entry.name !== 'templates') walk(path)
      } else if (/\.ya?ml$/.test(entry.name)) {
        const text = readFileSync(path, 'utf8')
        if (!/^kind: ConfigMap$/m.test(text)) continue
        for (const doc of text.split(/^---$/m).map((d) => parse(d) as Record<string, unknown>)) {
          if (doc?.kind !== 'ConfigMap') continue
          for (const [key, value] of Object.entries((doc.data ?? {}) as Record<string, string>))
            if (/\.ya?ml$/.test(key)) found.push({ name: `${path} data.${key}`, text: value })
        }
      }
    }
  }
  walk('deploy')
  if (existsSync(HELM_VALUES)) {
    const values = parse(readFileSync(HELM_VALUES, 'utf8')) as { config?: unknown }
    found.push({ name: `${HELM_VALUES} config`, text: stringify(values.config) })
  }
  return found
}

test('schema/config.schema.json is what src/config/schema.ts generates (npm run schema)', () => {
  assert.equal(
    readFileSync(PUBLISHED, 'utf8'),
    configJsonSchemaText(),
    `${PUBLISHED} is stale: run npm run schema`,
  )
  const schema = configJsonSchema()
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#')
  assert.equal(typeof schema.$id, 'string')
  assert.equal(typeof schema.title, 'string')
})

test('every example validates against the JSON Schema and starts with the editor line', () => {
  const examples = readdirSync('examples').filter((f) => f.endsWith('.yaml'))
  assert.ok(examples.length >= 3)
  for (const file of examples) {
    const text = readFileSync(join('examples', file), 'utf8')
    assert.ok(text.startsWith(HEADER), `examples/${file} starts with the yaml-language-server line`)
    assert.deepEqual(schemaErrors(parse(text)), [], `examples/${file}`)
    assert.ok(validateConfig(parseConfigText(text)).ok, `examples/${file} passes our validator`)
  }
})

test('the configs shipped in deploy/ (ConfigMaps, Helm values) validate against the JSON Schema', () => {
  const configs = deployedConfigs()
  assert.ok(configs.length >= 2, 'deploy/kubernetes/configmap.yaml and the Helm values')
  for (const { name, text } of configs) assert.deepEqual(schemaErrors(parse(text)), [], name)
})

test('the JSON Schema refuses what the loader refuses for shape, and takes defaults as optional', () => {
  const route = { name: 'r', allowAnonymous: true }
  assert.deepEqual(schemaErrors({ routes: [route] }), [], 'defaulted keys may be left out')
  const refused: [string, unknown][] = [
    ['unknown key', { routes: [{ ...route, allowanonymous: true }] }],
    [
      'bad matcher',
      {
        routes: [
          {
            ...route,
            rbac: {
              policies: {
                p: { principals: [{ jwtPrincipal: { claims: { a: 'b' }, matcher: 'CONTAINS' } }] },
              },
            },
          },
        ],
      },
    ],
    ['bad duration', { tokenCache: { maxAge: '5 minutes' }, routes: [route] }],
    ['bad secret name', { secrets: { 'open ai': { env: 'X' } }, routes: [route] }],
    ['no routes', { routes: [] }],
    [
      'typo in a secret chosen by claim',
      {
        secrets: { a: { env: 'A' } },
        routes: [
          {
            ...route,
            allowAnonymous: false,
            upstream: {
              headers: { authorization: { secret: { claim: 'team', mapp: { x: 'a' } } } },
            },
          },
        ],
      },
    ],
    [
      'pool key without an id',
      { secrets: { p: { pool: { keys: [{ env: 'K' }] } } }, routes: [route] },
    ],
  ]
  for (const [why, config] of refused) {
    assert.notDeepEqual(schemaErrors(config), [], `JSON Schema refuses: ${why}`)
    assert.equal(validateConfig(config).ok, false, `our validator refuses: ${why}`)
  }
})
