import type { JWTPayload } from 'jose'
import type { BudgetPlan } from '../budgets/compile.js'
import type { ListenTlsConfig } from '../config/schema.js'
import type { Allow, DenyStyle } from '../decision/decision.js'
import type { KeySource } from '../jwks/key-source.js'
import type { SecretStore } from '../secrets/store.js'
import type { RouteAuthorizer } from '../rbac/compile.js'
import type { RouteMatcher } from '../routes/match.js'
import type { TokenSource } from '../token/source.js'
import type { CheckTracer } from '../tracing/check-tracer.js'
import type { UpstreamPlan } from '../upstream/plan.js'
import type { Verifier } from '../verify/compile.js'
import type { VerifiedTokenCache } from '../verify/token-cache.js'

/** A claim copied into dynamic_metadata under `key` (the path as the config wrote it). */
export interface MetadataClaim {
  readonly key: string
  readonly path: readonly string[]
}

/** One route, compiled: everything the Check path needs, nothing it must parse. */
export interface CompiledRoute {
  readonly name: string
  readonly match: RouteMatcher
  readonly anonymous: boolean
  readonly tokenSources: readonly TokenSource[]
  /** The route's accepted providers, keyed by issuer (a token reaches its provider by `iss`). */
  readonly verifiers: ReadonlyMap<string, Verifier>
  readonly authorizer: RouteAuthorizer
  readonly upstream: UpstreamPlan
  readonly metadataClaims: readonly MetadataClaim[]
  /** `budgets:` compiled (the same plan on every route); undefined without budgets. */
  readonly budgets: BudgetPlan | undefined
  readonly denyStyle: DenyStyle
  /** Rules or headers read values from the request (body, header, path): build RequestValues. */
  readonly readsRequest: boolean
  /** The route regex, whose named groups `${request.path.<name>}` reads. */
  readonly pathRegex: RegExp | undefined
  /**
   * The one cache on a compiled route: its allow for a token's claims, when the allow depends
   * on the token alone (not `readsRequest`). Keyed weakly by the claims object the token
   * cache holds, so an entry lives exactly as long as the cached token, and a token verified
   * again (new keys, expiry) gets a fresh allow.
   */
  readonly allowsByClaims: WeakMap<JWTPayload, Allow> | undefined
}

/** The whole compiled config. Immutable: a reload builds a new one and swaps the reference. */
export interface Engine {
  /** Which config this is (engine/revision.ts): every decision, span and /readyz names it. */
  readonly revision: string
  readonly routes: readonly CompiledRoute[]
  readonly providers: ReadonlyMap<string, Verifier>
  /** Each provider's key source, by provider name (readiness, metrics). */
  readonly keySources: ReadonlyMap<string, KeySource>
  readonly secrets: SecretStore
  /** Verified tokens of this engine (a reload starts empty). */
  readonly tokenCache: VerifiedTokenCache
  readonly listen: {
    readonly grpc: string
    readonly http: string
    readonly httpAuthz: string
    readonly tls?: ListenTlsConfig
  }
  readonly limits: { readonly maxHeaderBytes: number; readonly maxBodyBytes: number }
  /** Share of decisions logged, by kind. */
  readonly decisionSampling: { readonly allow: number; readonly deny: number }
  readonly logLevel: string
  readonly shutdown: { readonly delayMs: number; readonly timeoutMs: number }
  /** Files the engine was built from besides the config (secret and key files): a change reloads. */
  readonly files: readonly string[]
  /** Pool key directories: any change in one reloads (a key added or removed). */
  readonly directories: readonly string[]
  /** Chosen at start: undefined when tracing is off, and the Check path then skips it whole. */
  readonly tracer: CheckTracer | undefined
}
