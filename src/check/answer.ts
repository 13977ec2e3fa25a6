import { deny, type Decision } from '../decision/decision.js'
import type { EngineHolder } from '../engine/holder.js'
import type { Logger } from '../ops/log.js'
import { recordCheck, type DecidedBy, type RecordDeps } from '../ops/record.js'
import type { AuthRequest } from '../request/auth-request.js'
import type { CheckAdapter, CheckSpan, TraceMetadata } from '../tracing/check-tracer.js'
import { decide } from './decide.js'
import { toAuthRequest } from './request.js'

/** What every Check adapter is built with: the engine in use, and where a Check is recorded. */
export interface CheckDeps extends RecordDeps {
  readonly holder: EngineHolder
}

/** Answers a decision on the adapter's transport; returns the decision it actually answered. */
export type Respond = (decision: Decision, req: AuthRequest) => Decision

const EMPTY_REQUEST: AuthRequest = toAuthRequest({})

/**
 * One authorization, whichever adapter (gRPC Check, HTTP) received it: read the request,
 * decide with the current engine, respond, record. It fails closed and never throws: a fault
 * anywhere (reading, deciding, encoding, even a broken log sink) becomes an `internal_error`
 * deny, because an unanswered Check is an error and, under Envoy's failure_mode_allow, an allow.
 * With tracing on (`engine.tracer`), the Check is a server span continuing the caller's trace
 * (`metadata`: the gRPC call's, where Envoy puts its ext_authz span's context).
 */
export function answerCheck(
  deps: CheckDeps,
  read: () => AuthRequest,
  respond: Respond,
  adapter: CheckAdapter = 'grpc',
  metadata?: TraceMetadata,
): void {
  const started = process.hrtime.bigint()
  const engine = deps.holder.current()
  let req = EMPTY_REQUEST
  let span: CheckSpan | undefined
  const answer = (decision: Decision): void => {
    const answered = respondOrFault(deps.log, respond, decision, req)
    recordQuietly(deps, engine, req, answered, started)
    span?.end(answered)
  }
  try {
    req = read()
    const tracer = engine.tracer
    if (tracer === undefined) {
      decide(engine, req).then(answer, (err: unknown) => answer(fault(deps.log, err)))
    } else {
      const traced = (span = tracer.startCheck(adapter, req, metadata, engine.revision))
      traced
        .within(() => decide(engine, req, traced))
        .then(answer, (err: unknown) => answer(fault(deps.log, err)))
    }
  } catch (err) {
    answer(fault(deps.log, err))
  }
}

/** Responds with `decision`, or with an internal_error deny if that throws; returns which. */
function respondOrFault(
  log: Logger,
  respond: Respond,
  decision: Decision,
  req: AuthRequest,
): Decision {
  try {
    return respond(decision, req)
  } catch (err) {
    const answered = fault(log, err)
    try {
      respond(answered, EMPTY_REQUEST)
    } catch (again) {
      logQuietly(log, again, 'answering a fault failed')
    }
    return answered
  }
}

function recordQuietly(
  deps: CheckDeps,
  engine: DecidedBy,
  req: AuthRequest,
  answered: Decision,
  started: bigint,
): void {
  try {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    recordCheck(deps, engine, req, answered, seconds)
  } catch (err) {
    logQuietly(deps.log, err, 'recording a check failed')
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
