import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TracingConfig } from '../config/schema.js'
import { packageRoot } from '../lib/package-root.js'
import type { Logger } from 'pino'
import { chooseTracing } from './settings.js'
import type { RunningTracing } from './start.js'

export type { RunningTracing }

/**
 * Starts tracing when the config's `tracing:` block or the OTEL_* variables ask for it, and
 * says so in the log either way. Off, the OpenTelemetry SDK is never imported (the import below
 * is dynamic), so a server without tracing loads and runs none of it.
 */
export async function setUpTracing(
  config: TracingConfig,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
): Promise<RunningTracing | undefined> {
  const choice = chooseTracing(config, env)
  for (const warning of choice.warnings) log.warn(warning)
  if (!choice.on) {
    log.debug({ why: choice.why }, 'tracing off')
    return undefined
  }
  const { startTracing } = await import('./start.js')
  const running = startTracing(choice.settings, log, packageVersion())
  const { endpoint, protocol, sampleRatio } = choice.settings
  log.info(
    {
      endpoint:
        endpoint === undefined
          ? 'from OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT'
          : withoutCredentials(endpoint),
      protocol,
      sampleRatio: sampleRatio ?? 'from OTEL_TRACES_SAMPLER',
    },
    'tracing on',
  )
  return running
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version?: string
  }
  return pkg.version ?? '0.0.0'
}

/** The endpoint as logged: no user info or query, which could hold a credential. */
function withoutCredentials(endpoint: string): string {
  const url = new URL(endpoint)
  return `${url.protocol}//${url.host}${url.pathname}`
}
