import assert from 'node:assert/strict'
import { test } from 'node:test'
import protobuf from 'protobufjs'
import { protosDir } from '../../src/proto/load.js'
import { fromStruct, toStruct } from '../../src/proto/struct.js'
import { loadOfficialProtos, loadProtos } from '../helpers/proto-json.js'

const OURS = ['envoy/service/auth/v3/external_auth.proto']

const ours = loadProtos([protosDir()], OURS)
const official = loadOfficialProtos(OURS)

/** Every message, enum and service defined in our own files (not protobufjs' well-known types). */
function definitions(ns: protobuf.NamespaceBase): protobuf.ReflectionObject[] {
  const out: protobuf.ReflectionObject[] = []
  for (const nested of ns.nestedArray) {
    if (nested.fullName.startsWith('.google.protobuf')) continue
    if (
      nested instanceof protobuf.Type ||
      nested instanceof protobuf.Enum ||
      nested instanceof protobuf.Service
    )
      out.push(nested)
    if (nested instanceof protobuf.Namespace) out.push(...definitions(nested))
  }
  return out
}

function describeField(f: protobuf.Field): string {
  const type = f.resolvedType ? f.resolvedType.fullName : f.type
  const kind =
    f instanceof protobuf.MapField ? `map<${f.keyType}>` : f.repeated ? 'repeated' : 'single'
  return `#${f.id} ${kind} ${type} oneof=${f.partOf?.name ?? '-'}`
}

test('every message, enum and service we define exists in Envoy official protos', () => {
  const defs = definitions(ours)
  assert.ok(defs.length >= 15, `expected our definitions, found ${defs.length}`)
  for (const def of defs)
    assert.ok(official.lookup(def.fullName), `${def.fullName} is not in the official protos`)
})

test('every field we define has the official number, type, cardinality and oneof', () => {
  let fields = 0
  for (const def of definitions(ours)) {
    if (!(def instanceof protobuf.Type)) continue
    const theirs = official.lookupType(def.fullName)
    for (const field of def.fieldsArray) {
      const match = theirs.fields[field.name]
      assert.ok(match, `${def.fullName}.${field.name} is not an official field`)
      assert.equal(describeField(field), describeField(match), `${def.fullName}.${field.name}`)
      fields++
    }
  }
  assert.ok(fields >= 60, `compared ${fields} fields`)
})

test('every enum value we define has the official number', () => {
  for (const def of definitions(ours)) {
    if (!(def instanceof protobuf.Enum)) continue
    const theirs = official.lookupEnum(def.fullName)
    for (const [name, id] of Object.entries(def.values))
      assert.equal(theirs.values[name], id, `${def.fullName}.${name}`)
  }
})

test('the Check rpc has the official request and response types', () => {
  const mine = ours.lookupService('envoy.service.auth.v3.Authorization').methods.Check!
  const theirs = official.lookupService('envoy.service.auth.v3.Authorization').methods.Check!
  assert.equal(mine.resolvedRequestType?.fullName, theirs.resolvedRequestType?.fullName)
  assert.equal(mine.resolvedResponseType?.fullName, theirs.resolvedResponseType?.fullName)
})

test('our CheckResponses encode to bytes the official protos decode to the same values', () => {
  const Ours = ours.lookupType('envoy.service.auth.v3.CheckResponse')
  const Theirs = official.lookupType('envoy.service.auth.v3.CheckResponse')
  const header = (key: string, value: string) => ({
    header: { key, value },
    append: { value: false },
    append_action: 2,
  })
  const denied = {
    status: { code: 16, message: 'token_missing' },
    denied_response: {
      status: { code: 401 },
      headers: [header('www-authenticate', 'Bearer realm="http://gw/openai"')],
      body: 'Jwt is missing',
    },
  }
  const allowed = {
    status: { code: 0 },
    ok_response: { headers: [header('authorization', 'Bearer sk')], headers_to_remove: ['x-jwt'] },
    dynamic_metadata: toStruct({ sub: 'alice', llms: ['a', 'b'], nested: { ok: true } }),
  }
  for (const message of [denied, allowed]) {
    const bytes = Ours.encode(Ours.fromObject(message)).finish()
    const decoded = Theirs.toObject(Theirs.decode(bytes), { enums: Number, defaults: false })
    assert.deepEqual(
      JSON.parse(JSON.stringify(decoded)),
      JSON.parse(JSON.stringify(Ours.toObject(Ours.decode(bytes), { enums: Number }))),
    )
  }
  const decoded = Theirs.toObject(Theirs.decode(Ours.encode(Ours.fromObject(allowed)).finish()), {
    enums: Number,
  })
  assert.equal(decoded.ok_response.headers[0].append_action, 2, 'OVERWRITE_IF_EXISTS_OR_ADD')
  assert.equal(decoded.ok_response.headers[0].append.value, false)
  assert.deepEqual(fromStruct(decoded.dynamic_metadata), {
    sub: 'alice',
    llms: ['a', 'b'],
    nested: { ok: true },
  })
})

test('a CheckRequest encoded with the official protos decodes with ours, raw headers included', () => {
  const Theirs = official.lookupType('envoy.service.auth.v3.CheckRequest')
  const Ours = ours.lookupType('envoy.service.auth.v3.CheckRequest')
  const request = {
    attributes: {
      request: {
        http: {
          method: 'POST',
          path: '/openai?x=1',
          host: 'gw',
          headers: { authorization: 'Bearer t' },
          header_map: { headers: [{ key: 'authorization', raw_value: Buffer.from('Bearer t') }] },
          body: '{"model":"gpt-4o-mini"}',
          raw_body: Buffer.from([0, 1, 2]),
        },
      },
      context_extensions: { route: 'openai' },
      metadata_context: { filter_metadata: { a: { fields: {} } } },
    },
  }
  const decoded = Ours.toObject(Ours.decode(Theirs.encode(Theirs.fromObject(request)).finish()), {
    bytes: String,
  })
  const http = decoded.attributes.request.http
  assert.equal(http.path, '/openai?x=1')
  assert.deepEqual(http.headers, { authorization: 'Bearer t' })
  assert.equal(Buffer.from(http.header_map.headers[0].raw_value, 'base64').toString(), 'Bearer t')
  assert.equal(http.body, '{"model":"gpt-4o-mini"}')
  assert.deepEqual(decoded.attributes.context_extensions, { route: 'openai' })
})
