import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'

/** Rotations write several files in a burst (certificate, then key): one reload for it. */
const DEBOUNCE_MS = 150

/**
 * Calls `changed` once a burst of changes to `files` has settled; returns a function that
 * stops watching. Watches directories, as src/ops/reload.ts does: Kubernetes swaps a mounted
 * Secret by renaming its `..data` symlink, which a watch on the old file never sees.
 */
export function watchFiles(
  files: readonly string[],
  changed: (trigger: string) => void,
  cannotWatch: (dir: string, error: Error) => void,
): () => void {
  const byDir = new Map<string, Set<string>>()
  for (const file of files)
    byDir.set(dirname(file), (byDir.get(dirname(file)) ?? new Set()).add(basename(file)))
  const watchers: FSWatcher[] = []
  let timer: NodeJS.Timeout | undefined
  const schedule = (trigger: string): void => {
    clearTimeout(timer)
    timer = setTimeout(() => changed(trigger), DEBOUNCE_MS)
    timer.unref()
  }
  for (const [dir, names] of byDir) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || names.has(name) || name.startsWith('..'))
          schedule(`file ${name ?? dir}`)
      })
      watcher.on('error', () => {})
      watchers.push(watcher)
    } catch (err) {
      cannotWatch(dir, err as Error)
    }
  }
  return () => {
    clearTimeout(timer)
    for (const w of watchers) w.close()
  }
}
