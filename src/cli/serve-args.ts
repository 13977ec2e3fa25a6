import type { OptionValues } from './command.js'
import type { ServeOptions } from './serve-options.js'
import { LOG_LEVELS, SERVE } from './specs.js'
import { UsageError } from './usage-error.js'

/** `serve` arguments as ServeOptions, checked before anything starts. */
export function serveOptions(values: OptionValues<typeof SERVE.options>): ServeOptions {
  const workers = Number(values.workers)
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new UsageError('--workers takes a whole number from 1 to 64', SERVE)
  const level = values['log-level']
  if (level !== undefined && !LOG_LEVELS.includes(level))
    throw new UsageError(`--log-level takes ${LOG_LEVELS.join('|')}`, SERVE)
  return {
    config: values.config,
    grpc: values.grpc,
    http: values.http,
    httpAuthz: values['http-authz'],
    logLevel: values['log-level'],
    workers,
  }
}
