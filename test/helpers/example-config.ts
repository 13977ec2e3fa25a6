import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'

/**
 * examples/llm-gateway.yaml with one change: `provider` also takes its token from `source`
 * (after its bearer header). Returns the path of the written copy.
 */
export function exampleWithTokenSource(
  provider: string,
  source: Readonly<Record<string, string>>,
): string {
  const config = parse(readFileSync('examples/llm-gateway.yaml', 'utf8'))
  config.providers[provider].tokenSources = [{ header: 'authorization', prefix: 'Bearer ' }, source]
  const file = join(mkdtempSync(join(tmpdir(), 'token-source-')), 'config.yaml')
  writeFileSync(file, stringify(config))
  return file
}
