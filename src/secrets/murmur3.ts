const C1 = 0xcc9e2d51
const C2 = 0x1b873593

/**
 * MurmurHash3 x86_32 (Appleby) of `text`'s UTF-16LE bytes with `seed`, as an unsigned 32-bit
 * integer: reading two UTF-16 code units as one little-endian block is exactly those bytes,
 * so no encoding step is needed. Pure integer arithmetic: the same value on every platform,
 * Node version and replica, which is what keeps a caller on its key (test/secrets/ checks it
 * against a byte-wise reference and the published test vectors). Not a cryptographic hash:
 * it chooses among keys the caller is entitled to anyway.
 */
export function murmur3(text: string, seed: number): number {
  let h = seed | 0
  const units = text.length
  let i = 0
  for (; i + 1 < units; i += 2) {
    h ^= scramble(text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16))
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  if (i < units) h ^= scramble(text.charCodeAt(i))
  h ^= units * 2
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function scramble(block: number): number {
  let k = Math.imul(block, C1)
  k = (k << 15) | (k >>> 17)
  return Math.imul(k, C2)
}
