// One temporary folder per bench process for the files its set-ups need (configs, answers,
// token lists), removed when the process exits: a bench run left ~10 folders in the system's
// temp folder each time.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let root: string | undefined
let count = 0

/** A new folder inside this process's scratch folder (created on first use). */
export function scratchDir(name: string): string {
  if (root === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-run-'))
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    root = dir
  }
  const dir = join(root, `${name}-${++count}`)
  mkdirSync(dir)
  return dir
}
