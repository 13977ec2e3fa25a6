import { ConfigInvalidError } from '../config/config-error.js'
import { loadEngine } from '../engine/load.js'
import type { OptionValues } from './command.js'
import type { VALIDATE } from './specs.js'

export function runValidate(values: OptionValues<typeof VALIDATE.options>): number {
  return validate(values.config)
}

/** Loads, validates and compiles a config exactly as `serve` would; prints what is wrong. */
export function validate(configFile: string): number {
  try {
    const engine = loadEngine(configFile, { env: process.env })
    for (const source of engine.keySources.values()) source.close?.()
    const names = engine.routes.map((r) => r.name).join(', ')
    process.stdout.write(
      `${configFile}: valid (${engine.providers.size} providers, ${engine.routes.length} routes: ${names})\n`,
    )
    const secrets = engine.secrets.describe()
    if (secrets.length > 0)
      process.stdout.write(`secrets:\n${secrets.map((l) => `  ${l}\n`).join('')}`)
    return 0
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err
    process.stderr.write(`${configFile}: invalid config\n${err.message}\n`)
    return 1
  }
}
