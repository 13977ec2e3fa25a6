import { ConfigInvalidError } from '../config/config-error.js'
import { loadEngine } from '../engine/load.js'
import { claimsFromArgs } from './claim-args.js'
import type { OptionValues } from './command.js'
import { describeRouteKeys, routeKeysFor } from './key-report.js'
import type { VALIDATE } from './specs.js'

export function runValidate(values: OptionValues<typeof VALIDATE.options>): number {
  const claims = values.claim.length > 0 ? claimsFromArgs(values.claim) : undefined
  return validate(values.config, claims, values['schema-only'] !== true)
}

/**
 * Loads, validates and compiles a config exactly as `serve` would; prints what is wrong, or
 * what it found: routes, secrets (values redacted), how each route's provider key is chosen
 * and, given claims, which key they get.
 */
export function validate(
  configFile: string,
  claims?: Record<string, unknown>,
  readExternal = true,
): number {
  try {
    const engine = loadEngine(configFile, { env: process.env, readExternal })
    for (const source of engine.keySources.values()) source.close?.()
    const names = engine.routes.map((r) => r.name).join(', ')
    const as = readExternal ? '' : ' as written (no secret, env var, key file or IdP read)'
    process.stdout.write(
      `${configFile}: valid${as} (${engine.providers.size} providers, ${engine.routes.length} routes: ${names})\n`,
    )
    const secrets = readExternal ? engine.secrets.describe() : []
    if (secrets.length > 0)
      process.stdout.write(`secrets:\n${secrets.map((l) => `  ${l}\n`).join('')}`)
    const keys = describeRouteKeys(engine)
    if (keys.length > 0) process.stdout.write(`keys:\n${keys.map((l) => `  ${l}\n`).join('')}`)
    if (claims !== undefined) {
      const chosen = routeKeysFor(engine, claims)
      process.stdout.write(
        `keys for ${JSON.stringify(claims)}:\n${chosen.map((l) => `  ${l}\n`).join('')}`,
      )
    }
    return 0
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err
    process.stderr.write(`${configFile}: invalid config\n${err.message}\n`)
    return 1
  }
}
