import type { RequestValueProblem } from '../request/request-value.js'

/** Why a templated rule refused: the value the request asked for, and what the token allows. */
export interface Explanation {
  /** The claim as configured (`llms.openai`). */
  readonly claim: string
  readonly requested: string
  readonly allowed: readonly string[]
}

export type AuthzResult =
  | {
      readonly ok: true
      /** Values read from the request by the rule that allowed, by name (`model`). */
      readonly values: Readonly<Record<string, string>> | undefined
    }
  | {
      readonly ok: false
      readonly reason: 'rbac_denied' | RequestValueProblem
      readonly explanation?: Explanation
    }

export const ALLOWED: AuthzResult = Object.freeze({ ok: true, values: undefined })
export const RBAC_DENIED: AuthzResult = Object.freeze({ ok: false, reason: 'rbac_denied' })
