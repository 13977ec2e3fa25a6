import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { ConfigInvalidError } from '../config/config-error.js'
import type { Engine } from '../engine/engine.js'
import type { EngineHolder } from '../engine/holder.js'
import type { Logger } from './log.js'
import type { Metrics } from './metrics.js'

export interface ReloadDeps {
  readonly configFile: string
  readonly holder: EngineHolder
  /** load -> validate -> compile; throws ConfigInvalidError for a bad config. */
  readonly build: () => Engine
  /** Called after a swap with the engine that was replaced. */
  readonly swapped?: (previous: Engine, next: Engine) => void
  readonly log: Logger
  readonly metrics: Metrics
}

const LISTEN_KEYS = ['grpc', 'http', 'httpAuthz'] as const

/** Editors and Kubernetes write a file in several steps: one reload for the burst. */
const DEBOUNCE_MS = 150

/**
 * Watches the config file and the files it names (secrets, keys) and reloads on change or on
 * `reload()` (SIGHUP). A new engine is built off the Check path and swapped in by reference;
 * a Check in flight keeps the engine it started with. A config that does not validate or
 * compile is refused with its errors logged, and the running one keeps serving.
 */
export class ConfigReloader {
  readonly #deps: ReloadDeps
  /** `listen` as bound at start: reloads never rebind, so that is what a change is against. */
  readonly #bound: Engine['listen']
  #watchers: FSWatcher[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(deps: ReloadDeps) {
    this.#deps = deps
    this.#bound = deps.holder.current().listen
    this.#watch(deps.holder.current())
  }

  /** Builds and swaps now; resolves true when the new config is in use. */
  reload(trigger: string): boolean {
    const { log, metrics, holder } = this.#deps
    let next: Engine
    try {
      next = this.#deps.build()
    } catch (err) {
      metrics.configReloads.inc({ outcome: 'failure' })
      const errors =
        err instanceof ConfigInvalidError ? err.errors : [{ path: '', message: String(err) }]
      log.error({ trigger, errors }, 'config reload refused; the running config keeps serving')
      return false
    }
    const previous = holder.current()
    holder.swap(next)
    metrics.configReloads.inc({ outcome: 'success' })
    log.info(
      {
        trigger,
        revision: next.revision,
        previousRevision: previous.revision,
        routes: next.routes.length,
        providers: next.providers.size,
      },
      'config reloaded',
    )
    const changed = LISTEN_KEYS.filter((key) => next.listen[key] !== this.#bound[key])
    if (changed.length > 0) {
      const keys = changed.map((key) => `listen.${key}`)
      log.warn({ keys }, 'listen addresses differ from those bound at start: restart to use them')
    }
    this.#deps.swapped?.(previous, next)
    this.#watch(next)
    return true
  }

  close(): void {
    clearTimeout(this.#timer)
    for (const w of this.#watchers) w.close()
    this.#watchers = []
  }

  /**
   * Watches directories, not files: Kubernetes swaps ConfigMap/Secret contents by renaming a
   * `..data` symlink, which a watch on the old file never sees.
   */
  #watch(engine: Engine): void {
    this.close()
    const files = [resolve(this.#deps.configFile), ...engine.files]
    const byDir = new Map<string, Set<string>>()
    for (const file of files)
      byDir.set(dirname(file), (byDir.get(dirname(file)) ?? new Set()).add(basename(file)))
    const anyName = new Set(engine.directories)
    for (const dir of anyName) if (!byDir.has(dir)) byDir.set(dir, new Set())
    for (const [dir, names] of byDir) {
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null || anyName.has(dir) || names.has(name) || name.startsWith('..'))
            this.#schedule(`file ${name ?? dir}`)
        })
        watcher.on('error', () => {})
        this.#watchers.push(watcher)
      } catch (err) {
        this.#deps.log.warn(
          { dir, error: (err as Error).message },
          'cannot watch for config changes; SIGHUP still reloads',
        )
      }
    }
  }

  #schedule(trigger: string): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.reload(trigger), DEBOUNCE_MS)
    this.#timer.unref()
  }
}
