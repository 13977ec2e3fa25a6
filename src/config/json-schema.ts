import { ConfigSchema } from './schema.js'

/** Where editors and validators find the schema; a URN because the project has no web home. */
export const CONFIG_SCHEMA_ID = 'urn:jwt-ext-authz:config:v1'

type JsonObject = { [key: string]: unknown }

/**
 * The config's JSON Schema (draft-07, what yaml-language-server and ajv read by default),
 * generated from the TypeBox schema in schema.ts, the one source. It describes the file as
 * written: a key with a default is optional there, even though TypeBox lists it as required
 * (the loader fills defaults in before checking). `npm run schema` writes it to
 * schema/config.schema.json; test/config/json-schema.test.ts keeps the two equal.
 */
export function configJsonSchema(): JsonObject {
  // JSON round trip: TypeBox's own markers are symbols, which JSON leaves out.
  const plain = asWritten(JSON.parse(JSON.stringify(ConfigSchema)) as unknown) as JsonObject
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: CONFIG_SCHEMA_ID,
    title: 'jwt-ext-authz config (v1)',
    description:
      'Envoy ext_authz service: JWT providers, routes with Gloo-style claim rules, upstream credentials. Generated from src/config/schema.ts by `npm run schema`; do not edit.',
    ...plain,
  }
}

/** Drops defaulted keys from every `required` list, at any depth. */
function asWritten(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(asWritten)
  if (typeof node !== 'object' || node === null) return node
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(node)) out[key] = asWritten(value)
  const properties = out.properties as Record<string, JsonObject> | undefined
  if (Array.isArray(out.required) && properties !== undefined) {
    const required = (out.required as string[]).filter((k) => properties[k]?.default === undefined)
    if (required.length > 0) out.required = required
    else delete out.required
  }
  return out
}

/** The schema as `schema/config.schema.json` holds it: two-space JSON and a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`
}
