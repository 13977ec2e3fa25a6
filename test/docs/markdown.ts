import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/*
 * Just enough Markdown for the docs tests: fenced code blocks apart from prose, inline code
 * spans, links, and heading anchors as GitHub makes them. Tests run from the repository root,
 * so every path here is relative to it.
 */

export interface CodeBlock {
  /** The fence's info string (`sh`, `yaml`, '' when none). */
  readonly lang: string
  readonly text: string
}

export interface MarkdownDoc {
  /** Repository-relative path. */
  readonly file: string
  /** The text outside fenced code blocks. */
  readonly prose: string
  readonly blocks: readonly CodeBlock[]
}

/** The documentation held true: the README, CONTRIBUTING, SECURITY and everything in docs/. */
export function docFiles(): string[] {
  const docs = readdirSync('docs', { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f))
  return ['README.md', 'CONTRIBUTING.md', 'SECURITY.md', ...docs.sort()]
}

const FENCE = /^\s*```\s*([\w-]*)\s*$/

export function readDoc(file: string): MarkdownDoc {
  const prose: string[] = []
  const blocks: CodeBlock[] = []
  let open: { lang: string; lines: string[] } | undefined
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fence = FENCE.exec(line)
    if (open === undefined && fence !== null) open = { lang: fence[1] ?? '', lines: [] }
    else if (open !== undefined && fence !== null && fence[1] === '') {
      blocks.push({ lang: open.lang, text: open.lines.join('\n') })
      open = undefined
    } else if (open !== undefined) open.lines.push(line)
    else prose.push(line)
  }
  return { file, prose: prose.join('\n'), blocks }
}

/** The inline code spans of some prose, without their backticks. */
export function codeSpans(prose: string): string[] {
  return [...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
}

/** `[text](target)` links outside code spans: their targets as written. */
export function linkTargets(prose: string): string[] {
  const withoutCode = prose.replace(/`[^`]+`/g, '')
  return [...withoutCode.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!)
}

/**
 * The anchor GitHub gives a heading: its text without Markdown, lower-cased, every character
 * but letters, digits, spaces, `-` and `_` dropped, each space a `-`.
 */
export function headingSlug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-')
}

/** Every heading anchor of a document; a repeated heading gets `-1`, `-2`... as on GitHub. */
export function anchors(doc: MarkdownDoc): Set<string> {
  const seen = new Map<string, number>()
  const found = new Set<string>()
  for (const m of doc.prose.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = headingSlug(m[1]!)
    const n = seen.get(slug) ?? 0
    found.add(n === 0 ? slug : `${slug}-${n}`)
    seen.set(slug, n + 1)
  }
  return found
}

/**
 * The shell commands a document shows: each line of its shell code blocks (a `\` continues
 * it; a `$ ` prompt and `#` comments dropped), and each inline code span.
 */
export function shellCommands(doc: MarkdownDoc): string[] {
  const shell = doc.blocks.filter((b) => ['', 'sh', 'bash', 'console', 'shell'].includes(b.lang))
  const lines = shell.flatMap((b) => b.text.replace(/\\\n/g, ' ').split('\n'))
  return [...lines, ...codeSpans(doc.prose)]
    .map((line) => line.replace(/^\s*\$ /, '').replace(/(^|\s)#.*$/, ''))
    .filter((line) => line.trim() !== '')
}

const WORD = /'[^']*'|"[^"]*"|&&|\|\||[;|&]|[^\s'";|&]+/g

/** A command line's simple commands, each as its words (quotes kept; `VAR=x` prefixes dropped). */
export function simpleCommands(line: string): string[][] {
  const commands: string[][] = [[]]
  for (const [word] of line.matchAll(WORD)) {
    if (/^(&&|\|\||[;|&])$/.test(word)) commands.push([])
    else commands.at(-1)!.push(word)
  }
  return commands
    .map((words) => {
      let start = 0
      while (start < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[start]!)) start++
      return words.slice(start)
    })
    .filter((words) => words.length > 0)
}
