import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'
import type { Config } from '../../src/config/schema.js'

/** Parsed manifests are checked field by field; their shape is what is under test. */
export type Doc = Record<string, any>

/** Every document of a YAML text, failing on any parse error. */
export function yamlDocs(text: string, source: string): Doc[] {
  return parseAllDocuments(text)
    .map((d) => {
      assert.deepEqual(d.errors, [], `${source} parses`)
      return d.toJSON() as Doc | null
    })
    .filter((d): d is Doc => d !== null)
}

/** Every document of every .yaml file in `dir`. */
export function docs(dir: string): Doc[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => yamlDocs(readFileSync(join(dir, f), 'utf8'), `${dir}/${f}`))
}

export function kinds(all: Doc[], kind: string): Doc[] {
  return all.filter((d) => d.kind === kind)
}

export function kind(all: Doc[], k: string): Doc {
  const found = kinds(all, k)
  assert.equal(found.length, 1, `one ${k}`)
  return found[0]!
}

/** The config a ConfigMap mounts, validated by our own validator. */
export function configOf(configMap: Doc): Config {
  const result = validateConfig(parseConfigText(configMap.data['config.yaml']))
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.errors))
  return result.config
}

/** Port of a `host:port` listen address; undefined when the listener is off (''). */
export function listenPort(address: string): number | undefined {
  return address === '' ? undefined : Number(address.split(':').pop())
}

/** Every label of `selector` is on the pod with the same value. */
export function selects(selector: Record<string, string>, podLabels: Record<string, string>) {
  assert.ok(Object.keys(selector).length > 0, 'a selector selects something, not everything')
  for (const [k, v] of Object.entries(selector)) assert.equal(podLabels[k], v, `label ${k}`)
}

/**
 * A tool CI installs (.ci/run): its path, or a skip reason on a developer machine without it.
 * With CI=true a missing tool is never skipped: the tests run it and fail saying so.
 */
export function tool(
  name: string,
  candidates: string[],
  install: string,
): { bin: string; skip: string | false } {
  const bin = candidates.find((c) => c !== '' && (c.includes('/') ? existsSync(c) : onPath(c)))
  if (bin !== undefined) return { bin, skip: false }
  const why = `${name} not installed (${install})`
  return process.env.CI ? { bin: name, skip: false } : { bin: name, skip: why }
}

/** Runs a tool; fails with its output when it cannot start or exits non-zero. */
export function run(bin: string, args: string[]): string {
  const res = spawnSync(bin, args, { encoding: 'utf8' })
  assert.ifError(res.error)
  assert.equal(res.status, 0, `${bin} ${args.join(' ')}:\n${res.stdout}${res.stderr}`)
  return res.stdout
}

function onPath(command: string): boolean {
  return spawnSync(command, ['--help'], { stdio: 'ignore' }).error === undefined
}

export const helm = tool(
  'helm',
  [process.env.HELM_BIN ?? '', '.venv/bin/helm', 'helm'],
  'scripts/install-helm.sh',
)

export const CHART = 'deploy/helm/jwt-ext-authz'

export function runHelm(args: string[]): string {
  return run(helm.bin, args)
}

/** `helm template` of the chart as release jwt-ext-authz in namespace jwt-ext-authz. */
export function renderChart(set: string[] = [], valueFiles: string[] = []): Doc[] {
  const args = ['template', 'jwt-ext-authz', CHART, '--namespace', 'jwt-ext-authz']
  for (const s of set) args.push('--set', s)
  for (const f of valueFiles) args.push('--values', f)
  return yamlDocs(runHelm(args), 'helm template')
}
