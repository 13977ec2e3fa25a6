import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { test } from 'node:test'
import {
  anchors,
  codeSpans,
  docFiles,
  linkTargets,
  readDoc,
  shellCommands,
  simpleCommands,
  type MarkdownDoc,
} from './markdown.js'

const DOCS: readonly MarkdownDoc[] = docFiles().map(readDoc)

/** Made by builds and installs, never in a clone: paths under them are not checked. */
const GENERATED = new Set(['.git', '.test-build', '.venv', 'dist', 'node_modules'])

/** What a repository path in the docs starts with: an entry of the repository root. */
const TOP = new Set(readdirSync('.').filter((name) => !GENERATED.has(name)))

/** A word that names a repository path: `envoy/envoy.yaml`, `deploy/istio/`, `test/envoy`. */
function repoPath(word: string): string | undefined {
  const bare = word.replace(/^['"(]+|['"),:;.]+$/g, '')
  if (!/^[\w.-]+(\/[\w.@-]+)+\/?$/.test(bare) && !/^[\w.-]+\/$/.test(bare)) return undefined
  return TOP.has(bare.split('/')[0]!) ? bare : undefined
}

test('every relative link names a file of the repository, and its #anchor a heading there', () => {
  const problems: string[] = []
  const byFile = new Map(DOCS.map((d) => [d.file, d]))
  for (const doc of DOCS) {
    for (const target of linkTargets(doc.prose)) {
      if (/^[a-z]+:/.test(target)) continue
      const [path = '', anchor] = target.split('#')
      const file = path === '' ? doc.file : normalize(join(dirname(doc.file), path))
      if (file.startsWith('..')) problems.push(`${doc.file}: ${target} leaves the repository`)
      else if (!existsSync(file)) problems.push(`${doc.file}: ${target} does not exist`)
      else if (anchor !== undefined && file.endsWith('.md')) {
        const headings = anchors(byFile.get(file) ?? readDoc(file))
        if (!headings.has(anchor)) problems.push(`${doc.file}: ${target}: no such heading`)
      }
    }
  }
  assert.deepEqual(problems, [])
})

test('every repository path the docs name in code exists', () => {
  const problems: string[] = []
  for (const doc of DOCS) {
    const words = [
      ...codeSpans(doc.prose).flatMap((span) => span.split(/\s+/)),
      ...shellCommands(doc).flatMap((line) => simpleCommands(line).flat()),
    ]
    for (const word of words) {
      if (/[<>*…]|\.\.\./.test(word)) continue
      const path = repoPath(word)
      if (path !== undefined && !existsSync(path)) problems.push(`${doc.file}: ${path}`)
    }
  }
  assert.deepEqual([...new Set(problems)], [])
})

test('no doc names a path outside the repository', () => {
  const outside = DOCS.filter((d) => /\/work\/|\/home\/|\/Users\//.test(d.prose)).map((d) => d.file)
  assert.deepEqual(outside, [])
})
