import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { ConfigInvalidError } from './config-error.js'

/** A config file bigger than this is a mistake, not a policy. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024

/** Reads a YAML or JSON config file into plain data; no semantics here (validate.ts has them). */
export function loadConfigFile(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    // The container's default command points here: say what the user must provide.
    const hint = code === 'ENOENT' ? '; mount your config file there or pass --config FILE' : ''
    throw new ConfigInvalidError([
      { path: '', message: `${file}: cannot read config (${code})${hint}` },
    ])
  }
  return parseConfigText(text, file)
}

/** YAML 1.2 is a superset of JSON, so one parser reads both. */
export function parseConfigText(text: string, source = 'config'): unknown {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw new ConfigInvalidError([{ path: '', message: `${source}: larger than 4 MiB` }])
  }
  try {
    // uniqueKeys: a repeated key would silently override a policy; maxAliasCount stops
    // alias bombs ("billion laughs").
    return parse(text, { uniqueKeys: true, maxAliasCount: 100, prettyErrors: true })
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : 'invalid YAML'
    throw new ConfigInvalidError([{ path: '', message: `${source}: ${message}` }])
  }
}
