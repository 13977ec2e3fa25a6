import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js'
import { deny, type Decision } from '../decision/decision.js'
import type { EngineHolder } from '../engine/holder.js'
import type { Logger } from '../ops/log.js'
import type { Metrics } from '../ops/metrics.js'
import { recordCheck } from '../ops/record.js'
import type { CheckRequest, CheckResponse } from '../proto/types.js'
import type { AuthRequest } from '../request/auth-request.js'
import { decide } from './decide.js'
import { toAuthRequest } from './request.js'
import { toCheckResponse } from './response.js'

export interface CheckServiceDeps {
  readonly holder: EngineHolder
  readonly metrics: Metrics
  readonly log: Logger
}

const EMPTY_REQUEST: AuthRequest = toAuthRequest({})

/**
 * The grpc-js handler for Authorization/Check. It never answers with a gRPC error: with
 * `failure_mode_allow: true` Envoy lets a request through when Check fails, so a fault an
 * attacker can provoke would become an allow. Faults become an `internal_error` deny.
 */
export function createCheckHandler(deps: CheckServiceDeps) {
  return function check(
    call: ServerUnaryCall<CheckRequest, CheckResponse>,
    callback: sendUnaryData<CheckResponse>,
  ): void {
    const started = process.hrtime.bigint()
    const engine = deps.holder.current()
    let req = EMPTY_REQUEST
    // Must not throw: a throw here would leave the call unanswered (a gRPC error, i.e. an
    // allow under failure_mode_allow) or surface as an unhandled rejection.
    const answer = (decision: Decision): void => {
      let response: CheckResponse
      try {
        response = toCheckResponse(decision, req)
      } catch (err) {
        decision = fault(deps.log, err)
        response = toCheckResponse(decision, EMPTY_REQUEST)
      }
      callback(null, response)
      try {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        recordCheck(deps, engine.decisionSampling, req, decision, seconds)
      } catch (err) {
        logQuietly(deps.log, err, 'recording a check failed')
      }
    }
    try {
      req = toAuthRequest(call.request ?? {})
      decide(engine, req).then(answer, (err: unknown) => answer(fault(deps.log, err)))
    } catch (err) {
      answer(fault(deps.log, err))
    }
  }
}

function fault(log: Logger, err: unknown): Decision {
  logQuietly(log, err, 'check failed; denied as internal_error')
  return deny('internal_error')
}

/** A broken log sink must not turn into an unanswered Check. */
function logQuietly(log: Logger, err: unknown, msg: string): void {
  try {
    log.error({ err }, msg)
  } catch {
    // Nothing left to report to.
  }
}
