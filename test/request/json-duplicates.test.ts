import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { repeatsKeyOnPath } from '../../src/request/json-duplicates.js'

test('a key repeated on the path is found, in any position, nesting and spacing', () => {
  const yes: [string, string[]][] = [
    ['{"model":"gpt-4","model":"gpt-3.5-turbo"}', ['model']],
    ['{ "model" : "a" ,\n\t"messages": [{"model": 1}, "}"] , "model":"b" }', ['model']],
    ['{"a":{"b":1,"c":{"b":2},"b":3}}', ['a', 'b']],
    ['{"a":1,"a":{"b":1}}', ['a', 'b']],
    ['{"m\\u006fdel":"x","model":"y"}', ['model']],
    ['{"k\\"":1,"k\\"":2}', ['k"']],
    ['{"x":"\\\\","model":1,"y":"\\"model\\":2","model":3}', ['model']],
  ]
  for (const [text, path] of yes) {
    JSON.parse(text)
    assert.equal(repeatsKeyOnPath(text, path), true, text)
  }
  const no: [string, string[]][] = [
    ['{"model":"gpt-4","messages":[{"model":1},{"model":2}]}', ['model']],
    ['{"a":{"b":1},"c":{"b":1,"b":2}}', ['a', 'b']],
    ['{"model":"x","n":1,"n":2}', ['model']],
    ['{"content":"\\"model\\":\\"gpt-4\\"","model":"x"}', ['model']],
    ['["model","model"]', ['model']],
    ['"model"', ['model']],
    ['{"a":[{"b":1},{"b":2}]}', ['a', 'b']],
    ['{"a":true,"b":null,"c":-1.5e3,"model":"m"}', ['model']],
    ['{}', ['model']],
  ]
  for (const [text, path] of no) {
    JSON.parse(text)
    assert.equal(repeatsKeyOnPath(text, path), false, text)
  }
})

test('property: JSON.stringify output never repeats a key; repeating one on the path is found', (t) => {
  const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31)
  t.diagnostic(`fast-check seed ${seed}`)
  const key = fc.oneof(fc.constantFrom('model', 'a', 'b', 'm"o', '\\', 'é', ''), fc.string())
  const doc = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
  fc.assert(
    fc.property(doc, key, fc.jsonValue(), fc.nat(8), (obj, name, other, indent) => {
      const plain = JSON.stringify(obj, null, indent % 3 === 0 ? undefined : indent)
      for (const k of Object.keys(obj)) assert.equal(repeatsKeyOnPath(plain, [k]), false)
      assert.equal(repeatsKeyOnPath(plain, [name]), false)
      // Append one more member named `name` to an object that already has it.
      const withName = { ...obj, [name]: other }
      const text = JSON.stringify(withName)
      const repeated = `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(name)}:${JSON.stringify(other)}}`
      JSON.parse(repeated)
      assert.equal(repeatsKeyOnPath(repeated, [name]), true)
      // One level down: {"outer": <repeated>} read at outer.name.
      assert.equal(repeatsKeyOnPath(`{"outer":${repeated}}`, ['outer', name]), true)
    }),
    { seed, numRuns: 300 },
  )
})
