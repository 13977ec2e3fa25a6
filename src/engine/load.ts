import { dirname, resolve } from 'node:path'
import { ConfigInvalidError } from '../config/config-error.js'
import { loadConfigFile } from '../config/load.js'
import { validateConfig } from '../config/validate.js'
import { compileEngine, type EngineDeps } from './compile.js'
import type { Engine } from './engine.js'

/** load -> validate -> compile. Throws ConfigInvalidError listing every problem. */
export function loadEngine(file: string, deps: Omit<EngineDeps, 'baseDir'>): Engine {
  const path = resolve(file)
  const result = validateConfig(loadConfigFile(path))
  if (!result.ok) throw new ConfigInvalidError(result.errors)
  return compileEngine(result.config, { ...deps, baseDir: dirname(path) })
}

/** Why the engine cannot serve every provider yet: first key fetches still running. */
export function notReadyReason(engine: Engine): string | undefined {
  const waiting = [...engine.keySources].filter(([, source]) => !source.status().settled).map(([name]) => name)
  return waiting.length === 0 ? undefined : `waiting for the first key fetch of: ${waiting.join(', ')}`
}
