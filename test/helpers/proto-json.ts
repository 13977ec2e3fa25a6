import { existsSync } from 'node:fs'
import { join } from 'node:path'
import protobuf from 'protobufjs'

const DEPS = join('node_modules', '@grpc', 'grpc-js-xds', 'deps')
// protobufjs ships descriptor.proto (imported by the annotation protos); the rest is Envoy's.
const OFFICIAL_ROOTS = [
  ...['envoy-api', 'googleapis', 'xds', 'protoc-gen-validate'].map((d) => join(DEPS, d)),
  join('node_modules', 'protobufjs'),
]

/** A protobufjs Root with `files` loaded, imports resolved against `includeDirs`. */
export function loadProtos(
  includeDirs: readonly string[],
  files: readonly string[],
): protobuf.Root {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) =>
    includeDirs.map((d) => join(d, target)).find(existsSync) ?? target
  root.loadSync([...files], { keepCase: true })
  root.resolveAll()
  return root
}

/** Envoy's official protos (from @grpc/grpc-js-xds) with the given files loaded. */
export function loadOfficialProtos(files: readonly string[]): protobuf.Root {
  return loadProtos(OFFICIAL_ROOTS, files)
}

const WRAPPERS = new Set(
  [
    'BoolValue',
    'StringValue',
    'BytesValue',
    'DoubleValue',
    'FloatValue',
    'Int32Value',
    'UInt32Value',
    'Int64Value',
    'UInt64Value',
  ].map((n) => `.google.protobuf.${n}`),
)

/**
 * Checks proto3 JSON (as Envoy reads YAML config) against a message type the way Envoy's
 * strict parser does: unknown fields, wrong types, unknown enum names, unresolvable `@type`
 * and two members of one oneof are errors. Returns every error with its path.
 */
export function checkProtoJson(root: protobuf.Root, typeName: string, value: unknown): string[] {
  const errors: string[] = []
  checkMessage(root, root.lookupType(typeName), value, typeName, errors)
  return errors
}

function checkMessage(
  root: protobuf.Root,
  type: protobuf.Type,
  value: unknown,
  path: string,
  errors: string[],
): void {
  const name = type.fullName
  if (name === '.google.protobuf.Any') return checkAny(root, value, path, errors)
  if (name === '.google.protobuf.Duration')
    return expect(
      typeof value === 'string' && /^-?\d+(\.\d+)?s$/.test(value),
      path,
      'a duration like "0.25s"',
      errors,
    )
  if (
    name === '.google.protobuf.Struct' ||
    name === '.google.protobuf.Value' ||
    name === '.google.protobuf.ListValue'
  )
    return
  if (WRAPPERS.has(name)) return checkScalar(type.fields.value!, value, path, errors)
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return void errors.push(`${path}: expected an object`)
  const seenOneofs = new Map<string, string>()
  for (const [key, v] of Object.entries(value)) {
    const field =
      type.fields[key] ??
      type.fieldsArray.find((f) => f.options?.json_name === key || camel(f.name) === key)
    if (field === undefined) {
      errors.push(`${path}.${key}: unknown field of ${name.slice(1)}`)
      continue
    }
    const oneof = field.partOf?.name
    if (oneof !== undefined) {
      if (seenOneofs.has(oneof))
        errors.push(`${path}.${key}: oneof ${oneof} already set by ${seenOneofs.get(oneof)}`)
      seenOneofs.set(oneof, key)
    }
    checkField(root, field, v, `${path}.${key}`, errors)
  }
}

function checkField(
  root: protobuf.Root,
  field: protobuf.Field,
  value: unknown,
  path: string,
  errors: string[],
): void {
  if (field instanceof protobuf.MapField) {
    if (typeof value !== 'object' || value === null)
      return void errors.push(`${path}: expected a map`)
    for (const [k, v] of Object.entries(value)) checkSingle(root, field, v, `${path}.${k}`, errors)
    return
  }
  if (field.repeated) {
    if (!Array.isArray(value)) return void errors.push(`${path}: expected a list`)
    value.forEach((v, i) => checkSingle(root, field, v, `${path}[${i}]`, errors))
    return
  }
  checkSingle(root, field, value, path, errors)
}

function checkSingle(
  root: protobuf.Root,
  field: protobuf.Field,
  value: unknown,
  path: string,
  errors: string[],
): void {
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Type) return checkMessage(root, resolved, value, path, errors)
  if (resolved instanceof protobuf.Enum) {
    return expect(
      (typeof value === 'string' && value in resolved.values) || typeof value === 'number',
      path,
      `one of ${Object.keys(resolved.values).join(', ')}`,
      errors,
    )
  }
  checkScalar(field, value, path, errors)
}

function checkScalar(field: protobuf.Field, value: unknown, path: string, errors: string[]): void {
  switch (field.type) {
    case 'string':
    case 'bytes':
      return expect(typeof value === 'string', path, 'a string', errors)
    case 'bool':
      return expect(typeof value === 'boolean', path, 'a boolean', errors)
    default:
      return expect(
        typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)),
        path,
        'a number',
        errors,
      )
  }
}

function checkAny(root: protobuf.Root, value: unknown, path: string, errors: string[]): void {
  const typeUrl = (value as { '@type'?: unknown } | null)?.['@type']
  if (typeof typeUrl !== 'string') return void errors.push(`${path}: Any without @type`)
  const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1)
  const type = root.lookup(typeName)
  if (!(type instanceof protobuf.Type))
    return void errors.push(`${path}: @type ${typeName} is not a known message`)
  const { '@type': _ignored, ...rest } = value as Record<string, unknown>
  checkMessage(root, type, rest, `${path}<${typeName}>`, errors)
}

function expect(ok: boolean, path: string, what: string, errors: string[]): void {
  if (!ok) errors.push(`${path}: expected ${what}`)
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}
