// The in-process cost of one Check through our handler (request already decoded, response
// encoded, no network): what grpc-js's own work is compared against. It caught a 4 µs
// regression the noisy req/s rows could not separate from this machine's drift.
import { answerCheckRequest, checkServiceDeps } from '../../src/check/service.js'
import { loadEngine } from '../../src/engine/load.js'
import { EngineHolder } from '../../src/engine/holder.js'
import { createLogger } from '../../src/ops/log.js'
import { createMetrics } from '../../src/ops/metrics.js'
import type { CheckRequest } from '../../src/proto/types.js'

/** Mean microseconds per Check for `request` on `config`, over `n` sequential calls. */
export async function handlerMicros(
  config: string,
  request: CheckRequest,
  n = 200_000,
): Promise<number> {
  // Wired as `serve` wires them: metrics, token-cache counts, a logger at the config's level.
  const metrics = createMetrics()
  const engine = loadEngine(config, { env: {}, onTokenCache: metrics.countTokenCacheLookup })
  const deps = checkServiceDeps({
    holder: new EngineHolder(engine),
    metrics,
    log: createLogger(engine.logLevel as 'warn'),
  })
  const read = () => request
  const one = () => new Promise<void>((resolve) => answerCheckRequest(deps, read, () => resolve()))
  for (let i = 0; i < n / 10; i++) await one()
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await one()
  return Number(process.hrtime.bigint() - started) / n / 1000
}
