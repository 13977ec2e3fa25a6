import { configJsonSchemaText } from '../config/json-schema.js'

/** `schema`: the config's JSON Schema on stdout. */
export function runSchema(): number {
  process.stdout.write(configJsonSchemaText())
  return 0
}
