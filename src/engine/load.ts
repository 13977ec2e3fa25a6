import { dirname, resolve } from 'node:path'
import { ConfigInvalidError } from '../config/config-error.js'
import { loadConfigFile } from '../config/load.js'
import { validateConfig } from '../config/validate.js'
import { compileEngine } from './compile.js'
import type { Engine } from './engine.js'

/** load -> validate -> compile. Throws ConfigInvalidError listing every problem. */
export function loadEngine(file: string, env: Readonly<Record<string, string | undefined>>): Engine {
  const path = resolve(file)
  const result = validateConfig(loadConfigFile(path))
  if (!result.ok) throw new ConfigInvalidError(result.errors)
  return compileEngine(result.config, { env, baseDir: dirname(path) })
}
