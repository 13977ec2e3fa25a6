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

/** A JSON-lines logger on stderr (stdout stays free for CLI output). */
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
    destination ?? pino.destination({ fd: 2, sync: false }),
  )
}
