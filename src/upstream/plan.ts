import type { HeaderToSet } from '../decision/decision.js'
import type { RequestValueSource } from '../request/request-value.js'
import type { KeyChoice } from '../secrets/choose-key.js'

/** One upstream header to set, compiled from `upstream.headers`. */
export type PlannedHeader =
  | { readonly kind: 'value'; readonly header: HeaderToSet }
  | {
      readonly kind: 'secret'
      readonly name: string
      /** A secret's name, or a choice of one by claim; a pool secret then picks a key. */
      readonly choice: KeyChoice
      readonly prefix: string
    }
  | {
      readonly kind: 'claim'
      readonly name: string
      readonly path: readonly string[]
      readonly prefix: string
    }
  /** `value: "${request.body.model}"`: read from the (allowed) request, e.g. x-authorized-model. */
  | { readonly kind: 'request'; readonly name: string; readonly source: RequestValueSource }

/** What an allowed request's upstream copy gets: headers set, and headers removed. */
export interface UpstreamPlan {
  readonly headers: readonly PlannedHeader[]
  /** Token headers (unless forwardToken) and `removeHeaders`, minus every header we set. */
  readonly remove: readonly string[]
  /** Query parameters that carry a token (unless forwardToken): stripped from the upstream URL. */
  readonly removeQuery: readonly string[]
  /**
   * Cookies that carry a token (unless forwardToken, or the route sets or removes `cookie`
   * itself): cut out of the upstream `Cookie` header, the other cookies kept.
   */
  readonly tokenCookies: readonly string[]
  /** Token headers other than `authorization` (unless forwardToken): in `remove`, which only
   * Envoy can be told to do; forward-auth proxies cannot. */
  readonly tokenHeaders: readonly string[]
  /**
   * The header whose key is the route's key: `key_id` in dynamic_metadata, logs, spans and
   * metrics. The one that chooses (by claim, or from a pool), else the first with a secret.
   */
  readonly keyHeader: PlannedHeader | undefined
  /** Opt-in (`credentialMetadata`): dynamic_metadata name for the route's key, bare. */
  readonly credentialMetadataKey: string | undefined
}
