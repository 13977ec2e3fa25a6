import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js'
import type { CheckRequest } from '../proto/types.js'
import type { EngineHolder } from '../engine/holder.js'
import { createDecisionLogger, type Logger } from '../ops/log.js'
import type { Metrics } from '../ops/metrics.js'
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
 * The grpc-js handler for Authorization/Check. It never answers with a gRPC error: with
 * `failure_mode_allow: true` Envoy lets a request through when Check fails, so a fault an
 * attacker can provoke would become an allow; `answerCheck` turns faults into a deny.
 * It answers with the CheckResponse already encoded (`preEncodedAuthorizationService`).
 */
export function createCheckHandler(deps: CheckServiceDeps) {
  return function check(
    call: ServerUnaryCall<CheckRequest, Buffer>,
    callback: sendUnaryData<Buffer>,
  ): void {
    answerCheck(
      deps,
      () => toAuthRequest(call.request ?? {}),
      (decision, req) => {
        // Encoded first: if that throws, the callback is still free for the fault's deny.
        callback(null, deps.responses.encode(decision, req))
        return decision
      },
      'grpc',
      call.metadata,
    )
  }
}
