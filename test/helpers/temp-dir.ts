import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const made = new Set<string>()

/**
 * A fresh directory under the OS temp dir, removed with everything in it when this test
 * process exits (each test file runs in its own process), so a run leaves nothing behind.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`))
  if (made.size === 0) process.once('exit', removeAll)
  made.add(dir)
  return dir
}

/** Removes a directory made by {@link tempDir} now (e.g. when a helper stops its process). */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  made.delete(dir)
}

function removeAll(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
}
