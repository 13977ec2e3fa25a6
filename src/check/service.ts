import type { EngineHolder } from '../engine/holder.js'
import { createDecisionLogger, type Logger } from '../ops/log.js'
import type { Metrics } from '../ops/metrics.js'
import type { CheckRequest } from '../proto/types.js'
import type { TraceMetadata } from '../tracing/check-tracer.js'
import { ResponseEncoder } from './encode.js'
import { toAuthRequest } from './request.js'
import { answerCheck, type CheckDeps } from './answer.js'

export interface CheckServiceDeps extends CheckDeps {
  readonly responses: ResponseEncoder
}

/**
 * The Check server's dependencies from the three a caller chooses; the rest (the decision
 * logger, the encoded-response caches) are made here, once per server, never per Check.
 */
export function checkServiceDeps(parts: {
  readonly holder: EngineHolder
  readonly metrics: Metrics
  readonly log: Logger
}): CheckServiceDeps {
  return {
    ...parts,
    decisionLog: createDecisionLogger(parts.log),
    responses: new ResponseEncoder(),
  }
}

/**
 * Answers one gRPC Check: `read` gives the CheckRequest (decoding happens inside, so a message
 * that cannot be decoded is a fault like any other), `send` takes the encoded CheckResponse.
 * It never answers with a gRPC error: with `failure_mode_allow: true` Envoy lets a request
 * through when Check fails, so a fault an attacker can provoke would become an allow;
 * `answerCheck` turns faults into a deny. `metadata`: the call's, where Envoy puts the
 * context of its ext_authz span.
 */
export function answerCheckRequest(
  deps: CheckServiceDeps,
  read: () => CheckRequest,
  send: (response: Buffer) => void,
  metadata?: TraceMetadata,
): void {
  answerCheck(
    deps,
    () => toAuthRequest(read()),
    (decision, req) => {
      // Encoded first: if that throws, `send` is still free for the fault's deny.
      send(deps.responses.encode(decision, req))
      return decision
    },
    'grpc',
    metadata,
  )
}
