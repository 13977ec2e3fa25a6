import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { tempDir } from './temp-dir.js'

/** A config written to a fresh directory (removed when the test process exits); its path. */
export function writeConfig(config: unknown, prefix = 'config'): string {
  const file = join(tempDir(prefix), 'config.yaml')
  writeFileSync(file, stringify(config))
  return file
}

/** examples/llm-gateway.yaml, parsed, to change for one test. */
export function gatewayExample() {
  return parse(readFileSync('examples/llm-gateway.yaml', 'utf8')) as {
    providers: Record<string, Record<string, unknown>>
    routes: { name: string; providers?: string[] }[]
    [key: string]: unknown
  }
}

/**
 * examples/llm-gateway.yaml with one change: `provider` also takes its token from `source`
 * (after its bearer header). Returns the path of the written copy.
 */
export function exampleWithTokenSource(
  provider: string,
  source: Readonly<Record<string, string>>,
): string {
  const config = gatewayExample()
  config.providers[provider]!.tokenSources = [
    { header: 'authorization', prefix: 'Bearer ' },
    source,
  ]
  return writeConfig(config, 'token-source')
}

/**
 * examples/llm-gateway.yaml (the seeds, so markers on /llm-d still pass) plus one provider
 * accepted on the openai route; `extra` top-level keys (e.g. `shutdown`) are merged in.
 */
export function exampleWithProvider(
  name: string,
  provider: Readonly<Record<string, unknown>>,
  extra: Readonly<Record<string, unknown>> = {},
): string {
  const config = gatewayExample()
  config.providers[name] = { ...provider }
  config.routes.find((r) => r.name === 'openai')!.providers!.push(name)
  return writeConfig({ ...config, ...extra }, `jwt-ext-authz-${name}`)
}
