import { buildKeySet, type KeySet, type KeySetPolicy } from './key-set.js'
import type { KeySource, KeySourceStatus } from './key-source.js'
import { urlForLog } from '../lib/url-for-log.js'
import { fetchJson } from './fetch-json.js'
import type { FetchTimingMs } from './remote-options.js'
import type { KeyWaitTracer } from '../tracing/check-tracer.js'

export type FetchOutcome = 'success' | 'error'

/** Runs `fn` after `ms` unless the returned cancel is called first. */
export type Schedule = (fn: () => void, ms: number) => () => void

/** Real timers, unref'd: a pending refresh or wait never keeps the process alive by itself. */
const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms)
  timer.unref()
  return () => clearTimeout(timer)
}

export interface RemoteSourceDeps {
  /** Provider name, for logs and metrics. */
  readonly provider: string
  /** The JWKS URL: fixed, or found by OIDC discovery (which may fail like a fetch). */
  readonly locate: () => Promise<string>
  readonly timing: FetchTimingMs
  /** Fetch over http:// too (config `insecure: true`); https only otherwise. */
  readonly insecure?: boolean
  readonly now?: () => number
  /** Timers (background refresh, the Check's wait): injected with `now` so tests drive time. */
  readonly schedule?: Schedule
  readonly onFetch?: (outcome: FetchOutcome) => void
  readonly warn?: (msg: string, detail: Readonly<Record<string, unknown>>) => void
  /** When tracing: a Check's wait on a fetch becomes a child span of its Check span. */
  readonly tracer?: KeyWaitTracer
}

/** A JWKS bigger than this is an attack or a mistake; the first keys are kept. */
const MAX_KEYS = 100
const FIRST_RETRY_MS = 1000
const MAX_RETRY_MS = 5 * 60_000

/**
 * Keys fetched from a JWKS URL, kept fresh in the background. What users of Envoy and Istio
 * miss most: a token signed by a newly rotated key triggers one refetch (at most one per
 * cooldown, shared by every waiting Check: single flight), and an IdP outage keeps the last
 * good keys serving for `maxStale` instead of failing every request. A Check never waits on
 * a fetch longer than `checkWaitMs`; the fetch goes on for the next one.
 */
export class RemoteKeySource implements KeySource {
  readonly #deps: RemoteSourceDeps
  readonly #now: () => number
  readonly #setTimer: Schedule
  #set: KeySet | undefined
  #fetchedAt = 0
  /** Only refetches for unknown kids are cooled down; scheduled fetches do not count. */
  #lastKidRefetch = Number.NEGATIVE_INFINITY
  #inflight: Promise<void> | undefined
  #failures = 0
  #settled = false
  #lastError: string | undefined
  /** The JWKS URL last located (OIDC finds it by discovery), for log lines. */
  #url: string | undefined
  #cancelTimer: () => void = () => {}
  #closed = false
  /** A fetched set skips an unusable key (weak RSA, not base64url) with a log line. */
  readonly #keyPolicy: KeySetPolicy = { origin: 'fetched', skip: (why) => this.#warn(why, {}) }
  /** Settles when the first fetch has finished, well or not. */
  readonly firstAttempt: Promise<void>

  constructor(deps: RemoteSourceDeps) {
    this.#deps = deps
    this.#now = deps.now ?? Date.now
    this.#setTimer = deps.schedule ?? realSchedule
    this.firstAttempt = this.#startFetch()
  }

  current(): KeySet | undefined {
    if (this.#set === undefined) return undefined
    // Past maxStale the keys may have been revoked long ago: never fail open on them.
    return this.#now() - this.#fetchedAt > this.#deps.timing.maxStaleMs ? undefined : this.#set
  }

  refresh(): Promise<KeySet | undefined> {
    const joined = this.#inflight !== undefined
    if (!joined) {
      const now = this.#now()
      if (now - this.#lastKidRefetch < this.#deps.timing.cooldownMs)
        return Promise.resolve(this.current())
      this.#lastKidRefetch = now
      // Awaited below through #inflight, which it has just set.
      void this.#startFetch()
    }
    const span = this.#deps.tracer?.startKeyWait(this.#deps.provider, joined)
    return waitAtMost(this.#inflight!, this.#deps.timing.checkWaitMs, this.#setTimer).then(
      (settled) => {
        span?.end(settled, this.#lastError !== undefined)
        return this.current()
      },
    )
  }

  status(): KeySourceStatus {
    const set = this.current()
    return {
      ready: set !== undefined,
      settled: this.#settled,
      keys: set?.keys.length ?? 0,
      ...(this.#set === undefined ? {} : { ageSeconds: (this.#now() - this.#fetchedAt) / 1000 }),
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    }
  }

  close(): void {
    this.#closed = true
    this.#cancelTimer()
  }

  #startFetch(): Promise<void> {
    this.#cancelTimer()
    const attempt = this.#fetchKeys().then(
      (set) => this.#succeeded(set),
      (err: unknown) => this.#failed(err),
    )
    this.#inflight = attempt.finally(() => {
      this.#inflight = undefined
      this.#settled = true
      this.#schedule()
    })
    return this.#inflight
  }

  async #fetchKeys(): Promise<KeySet> {
    const url = await this.#deps.locate()
    this.#url = url
    const { timing, insecure } = this.#deps
    const jwks = await fetchJson(url, { timeoutMs: timing.timeoutMs, insecure: insecure === true })
    const keys = (jwks as { keys?: unknown } | null)?.keys
    if (Array.isArray(keys) && keys.length > MAX_KEYS) {
      this.#warn('jwks has too many keys; using the first ones', {
        keys: keys.length,
        kept: MAX_KEYS,
      })
      return buildKeySet({ keys: keys.slice(0, MAX_KEYS) }, this.#keyPolicy)
    }
    return buildKeySet(jwks, this.#keyPolicy)
  }

  #succeeded(set: KeySet): void {
    this.#set = set
    this.#fetchedAt = this.#now()
    this.#failures = 0
    this.#lastError = undefined
    this.#deps.onFetch?.('success')
  }

  /**
   * Keeps the last good keys (stale-if-error); the next try backs off. The log line says
   * which keys are left and names the URL that failed (a discovery error carries its own).
   */
  #failed(err: unknown): void {
    this.#failures++
    this.#lastError = err instanceof Error ? err.message : 'fetch failed'
    this.#deps.onFetch?.('error')
    const url = (err as { url?: unknown } | undefined)?.url ?? this.#url
    const left =
      this.#set === undefined
        ? 'no keys yet'
        : this.current() === undefined
          ? 'the last keys are past maxStale and no longer used'
          : 'keeping the last good keys'
    this.#warn(`jwks fetch failed; ${left}`, {
      ...(typeof url === 'string' ? { url: urlForLog(url) } : {}),
      error: this.#lastError,
      failures: this.#failures,
    })
  }

  #schedule(): void {
    if (this.#closed) return
    const { cacheMs } = this.#deps.timing
    const delay =
      this.#failures === 0
        ? Math.max(cacheMs * 0.8, 1000)
        : Math.min(
            FIRST_RETRY_MS * 2 ** (this.#failures - 1),
            MAX_RETRY_MS,
            Math.max(cacheMs, FIRST_RETRY_MS),
          )
    // #startFetch never rejects (#failed handles every error): nothing to await here.
    this.#cancelTimer = this.#setTimer(() => void this.#startFetch(), delay)
  }

  #warn(msg: string, detail: Readonly<Record<string, unknown>>): void {
    this.#deps.warn?.(msg, { provider: this.#deps.provider, ...detail })
  }
}

/** Resolves true when `p` settles, false after `ms` if it has not; never rejects. */
function waitAtMost(p: Promise<unknown>, ms: number, schedule: Schedule): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const cancel = schedule(() => resolve(false), ms)
    const done = (): void => {
      cancel()
      resolve(true)
    }
    p.then(done, done)
  })
}
