import { createHash } from 'node:crypto'
import type { Config } from '../config/schema.js'

/**
 * A short name for the config a decision was made with (OPA-Envoy's "policy revision"): the
 * first 12 hex digits of SHA-256 over the validated config, defaults applied. A change that
 * alters what the config says gives a new revision; one that only moves comments or spacing
 * does not. Secret values are not in it (the config names where they come from).
 */
export function configRevision(config: Config): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12)
}
