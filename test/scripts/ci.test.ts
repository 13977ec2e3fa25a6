import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

/** `[major, minor, patch]` of `x.y.z`. */
function parts(version: string): number[] {
  return version.split('.').map(Number)
}

function atLeast(version: string, floor: string): boolean {
  const [a, b] = [parts(version), parts(floor)]
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! > b[i]!
  return true
}

test('every Node line engines names is one CI tests, at a version engines accepts', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }
  const ranges = pkg.engines.node.split('||').map((r) => r.trim().replace(/^\^/, ''))
  const ci = readFileSync('.ci/run', 'utf8')
  // Pinned in .ci/run: NODE_LTS_VERSION's default and the loop over the other LTS lines.
  const pinned = [...ci.matchAll(/\b(\d{2}\.\d+\.\d+)\b/g)].map((m) => m[1]!)
  for (const floor of ranges) {
    const major = parts(floor)[0]!
    // Node 20 is the machine's own (Debian 12 here): CI runs it first, unpinned.
    if (major === 20) continue
    const tested = pinned.filter((v) => parts(v)[0] === major)
    assert.ok(tested.length > 0, `.ci/run tests Node ${major}`)
    for (const v of tested) assert.ok(atLeast(v, floor), `${v} satisfies ^${floor}`)
  }
  const majors = new Set(ranges.map((r) => parts(r)[0]))
  for (const v of pinned) assert.ok(majors.has(parts(v)[0]), `engines names Node ${v}`)
})
