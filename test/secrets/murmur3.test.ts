import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { murmur3 } from '../../src/secrets/murmur3.js'
import { assertProperty } from '../helpers/property.js'

/** MurmurHash3 x86_32 over bytes, written from the reference C (SMHasher), block by block. */
function referenceMurmur3(bytes: Uint8Array, seed: number): number {
  const mix = (k: number) => Math.imul(rotl(Math.imul(k, 0xcc9e2d51), 15), 0x1b873593)
  const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r))
  let h = seed | 0
  const blocks = bytes.length >> 2
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < blocks; i++) {
    h ^= mix(view.getUint32(i * 4, true))
    h = (Math.imul(rotl(h, 13), 5) + 0xe6546b64) | 0
  }
  const tail = bytes.subarray(blocks * 4)
  if (tail.length > 0) h ^= mix(tail.reduceRight((k, byte) => (k << 8) | byte, 0))
  h ^= bytes.length
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

test('the byte-wise reference gives the published MurmurHash3 x86_32 test vectors', () => {
  const vectors: [string, number, number][] = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['\0\0\0\0', 0, 0x2362f9de],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ]
  for (const [text, seed, expected] of vectors)
    assert.equal(
      referenceMurmur3(Buffer.from(text, 'latin1'), seed),
      expected,
      JSON.stringify(text),
    )
})

test('murmur3 of a string is the reference over its UTF-16LE bytes, for any string and seed', async (t) => {
  await assertProperty(
    t,
    fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.integer(), (text, seed) => {
      assert.equal(murmur3(text, seed), referenceMurmur3(Buffer.from(text, 'utf16le'), seed))
    }),
    { numRuns: 2000 },
  )
})

test('a few values pinned: changing them would move every caller of every pool to another key', () => {
  assert.deepEqual(
    ['alice', 'bob', 'solo-workshop', 'openai-1', ''].map((s) => murmur3(s, 0)),
    PINNED,
  )
})
const PINNED = [811107759, 3162585025, 2267833375, 3394945597, 0]
