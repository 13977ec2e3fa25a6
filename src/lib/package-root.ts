import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

/**
 * The directory holding package.json: found by walking up from this file, so it is right
 * both when run from `src/` (tsx) and from compiled `dist/src/`.
 */
export function packageRoot(): string {
  if (cached !== undefined) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('jwt-ext-authz: package.json not found above the code')
    dir = parent
  }
  cached = dir
  return dir
}
