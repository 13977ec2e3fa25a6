import type { DiagLogger } from '@opentelemetry/api'
import type { Logger } from 'pino'

/** A diagnostic can quote a collector's response body: lines stay short. */
const MAX_CHARS = 300
/** With the collector down every batch fails; one line per interval says so, with a count. */
const INTERVAL_MS = 30_000

/**
 * The SDK's diagnostics (export failures, bad OTEL_* values) as our log lines, warn and error
 * only, at most one per INTERVAL_MS: under load a dead collector fails several exports a
 * second, and the log must not become the cost of an outage.
 */
export function diagToLog(log: Logger, now: () => number = Date.now): DiagLogger {
  let quietUntil = Number.NEGATIVE_INFINITY
  let suppressed = 0
  const write =
    (level: 'warn' | 'error') =>
    (message: string, ...args: unknown[]): void => {
      const t = now()
      if (t < quietUntil) {
        suppressed++
        return
      }
      quietUntil = t + INTERVAL_MS
      const detail = args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')
      const fields = { component: 'opentelemetry', ...(suppressed > 0 ? { suppressed } : {}) }
      suppressed = 0
      log[level](fields, `${message} ${detail}`.trim().slice(0, MAX_CHARS))
    }
  const ignore = (): void => undefined
  return {
    error: write('error'),
    warn: write('warn'),
    info: ignore,
    debug: ignore,
    verbose: ignore,
  }
}
