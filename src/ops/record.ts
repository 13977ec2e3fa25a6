import type { Decision } from '../decision/decision.js'
import type { Metrics } from './metrics.js'

/** The one after-hook: every answered Check passes here exactly once. */
export function recordCheck(metrics: Metrics, decision: Decision, elapsedSeconds: number): void {
  const route = decision.route ?? ''
  const reason = decision.kind === 'deny' ? decision.reason : ''
  metrics.checks.inc({ route, decision: decision.kind, reason })
  metrics.checkDuration.observe({ decision: decision.kind }, elapsedSeconds)
}
