import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { backEdges, folderGraph } from '../../scripts/lint/folder-layers.js'
import { tempDir } from '../helpers/temp-dir.js'

/** A throwaway source tree: `{ 'a/x.ts': "import ..." }`. */
function tree(files: Record<string, string>): string {
  const root = tempDir('jwt-ext-authz-layers')
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

test("src/'s folders import in one direction only (npm run lint holds it)", () => {
  assert.deepEqual(backEdges(folderGraph('src')), [])
})

test('a cycle through a third folder is found, type-only and dynamic imports included', () => {
  const root = tree({
    'a/x.ts': "import { y } from '../b/y.js'\n",
    'b/y.ts': "export const y = await import('../c/z.js')\n",
    'c/z.ts': "import type { X } from '../a/x.js'\n",
    'lib/w.ts': 'export const w = 1\n',
    'a/v.ts': "import { w } from '../lib/w.js'\nimport { x } from './x.js'\n",
  })
  assert.deepEqual(backEdges(folderGraph(root)), [
    'a → b (a/x.ts), and b leads back to a',
    'b → c (b/y.ts), and c leads back to b',
    'c → a (c/z.ts), and a leads back to c',
  ])
})

test('imports within a folder and into a neutral folder are no cycle', () => {
  const root = tree({
    'a/x.ts': "import { w } from '../lib/w.js'\nimport { v } from './v.js'\n",
    'a/v.ts': "import { x } from './x.js'\n",
    'b/y.ts': "import { w } from '../lib/w.js'\nimport { x } from '../a/x.js'\n",
    'lib/w.ts': 'export const w = 1\n',
  })
  assert.deepEqual(backEdges(folderGraph(root)), [])
})
