import type { Decision } from '../decision/decision.js'
import type { AuthRequest } from '../request/auth-request.js'
import type { Logger } from './log.js'
import type { Metrics } from './metrics.js'

export interface RecordDeps {
  readonly metrics: Metrics
  readonly log: Logger
  /** `log` for the decision line (see createDecisionLogger). */
  readonly decisionLog: Logger
  readonly random?: () => number
}

export interface Sampling {
  readonly allow: number
  readonly deny: number
}

/** What of the engine a decision line needs: the engine itself is one (no object per Check). */
export interface DecidedBy {
  readonly decisionSampling: Sampling
  /** The config's revision: after a reload, each line says which config decided. */
  readonly revision: string
}

/**
 * The one after-hook: every answered Check passes here exactly once. It counts the Check and
 * writes the decision line (sampled): request id, route, decision, reason, sub, iss, the id of
 * the provider key injected, the config revision, latency. Only names and ids reach the log —
 * never a token, a header value or a secret.
 */
export function recordCheck(
  deps: RecordDeps,
  engine: DecidedBy,
  req: AuthRequest,
  decision: Decision,
  elapsedSeconds: number,
): void {
  const route = decision.route ?? ''
  const reason = decision.kind === 'deny' ? decision.reason : ''
  deps.metrics.countCheck(route, decision.kind, reason, elapsedSeconds)
  const keyId = decision.kind === 'allow' ? decision.metadata.key_id : undefined
  if (typeof keyId === 'string') deps.metrics.countKeyUse(route, keyId)
  const sampling = engine.decisionSampling
  const rate = decision.kind === 'allow' ? sampling.allow : sampling.deny
  if (
    rate <= 0 ||
    (rate < 1 && (deps.random ?? Math.random)() >= rate) ||
    !deps.log.isLevelEnabled('info')
  )
    return
  deps.decisionLog.info(
    {
      requestId: stringOrUndefined(req.headers.get('x-request-id')?.[0]),
      route: route || undefined,
      decision: decision.kind,
      reason: reason || undefined,
      sub: decision.kind === 'allow' ? stringOrUndefined(decision.metadata.sub) : undefined,
      iss: decision.kind === 'allow' ? stringOrUndefined(decision.metadata.iss) : undefined,
      keyId: stringOrUndefined(keyId),
      config: engine.revision,
      latencyMs: Math.round(elapsedSeconds * 1e6) / 1e3,
    },
    'check',
  )
}

/** Only short strings are logged (sub, iss, the request id); anything else is dropped. */
function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' && v.length <= 256 ? v : undefined
}
