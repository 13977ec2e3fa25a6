import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

/**
 * Paths pino blanks before a line is written. Tokens and secrets are never passed to the
 * logger on purpose; these are the second line of defence for a careless call site.
 */
const REDACT = [
  'token',
  'authorization',
  'headers.authorization',
  'headers.cookie',
  '*.authorization',
  'secret',
  '*.secret',
]

/**
 * A JSON-lines logger on stderr (stdout stays free for CLI output). Written synchronously:
 * sonic-boom's asynchronous mode buffers each line in strings it joins, most of the garbage
 * an every-decision-logged Check makes (BENCHMARKS.md, "Figures behind the code"), and a line
 * it still holds is lost when the process dies. A container runtime reads stderr
 * promptly; sample decisions (`log.decisions`) where even that is too much.
 */
export function createLogger(
  level: LevelWithSilent = 'info',
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level,
      base: { service: 'jwt-ext-authz', pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination ?? pino.destination({ fd: 2, sync: true }),
  )
}

/**
 * `log` without redaction, for the decision line only: recordCheck writes one fixed set of
 * fields (ids, names, a latency), none of them a redact path, so there redaction is pure cost.
 * Made once, with the Check server's other dependencies.
 * Its own level stays info: the caller asks the parent whether info is enabled (the parent's
 * level follows the config), so the child never drops a line the parent would write.
 */
export function createDecisionLogger(log: Logger): Logger {
  return log.child({}, { redact: [], level: 'info' })
}
