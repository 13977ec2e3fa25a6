// `npm run lint`: src/'s folders form layers. oxlint's import/no-cycle holds files; this holds
// folders: when a folder imports from another, nothing in that one may lead back to it, so a
// rule two folders share lives in a neutral home (src/lib) instead of one importing the other.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'

/** folder → folders it imports from, each with the first file that does. */
export type FolderGraph = Map<string, Map<string, string>>

const IMPORT = /\b(?:from|import)\s*\(?\s*'(\.[^']+)'/g

function folderOf(root: string, file: string): string {
  const parts = relative(root, file).split(sep)
  return parts.length > 1 ? (parts[0] ?? '.') : '.'
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Every relative import of every .ts file under `root`, as edges between its folders. */
export function folderGraph(root: string): FolderGraph {
  const graph: FolderGraph = new Map()
  for (const file of sourceFiles(root)) {
    const from = folderOf(root, file)
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const to = folderOf(root, normalize(join(dirname(file), match[1] ?? '')))
      if (to === from) continue
      const targets = graph.get(from) ?? new Map<string, string>()
      if (!targets.has(to)) targets.set(to, relative(root, file))
      graph.set(from, targets)
    }
  }
  return graph
}

function reaches(graph: FolderGraph, start: string, goal: string): boolean {
  const seen = new Set<string>()
  const stack = [start]
  for (let folder = stack.pop(); folder !== undefined; folder = stack.pop()) {
    if (folder === goal) return true
    for (const next of graph.get(folder)?.keys() ?? []) {
      if (seen.has(next)) continue
      seen.add(next)
      stack.push(next)
    }
  }
  return false
}

/** One line per import that closes a folder cycle: `a → b (a/file.ts), and b leads back to a`. */
export function backEdges(graph: FolderGraph): string[] {
  const found: string[] = []
  for (const [from, targets] of graph) {
    for (const [to, file] of targets) {
      if (reaches(graph, to, from))
        found.push(`${from} → ${to} (${file}), and ${to} leads back to ${from}`)
    }
  }
  return found.sort()
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = process.argv[2] ?? 'src'
  const found = backEdges(folderGraph(root))
  for (const line of found) process.stderr.write(`folder cycle in ${root}/: ${line}\n`)
  process.exitCode = found.length > 0 ? 1 : 0
}
