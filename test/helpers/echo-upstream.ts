import { spawn } from 'node:child_process'
import { once } from 'node:events'

/** What the echo upstream (deploy/echo/echo.mjs) received, one entry per request. */
export interface EchoedRequest {
  readonly method: string
  readonly path: string
  /** Lower-cased names; a header sent twice is an array of its values. */
  readonly headers: Readonly<Record<string, string | string[]>>
  readonly body: string
}

export interface EchoUpstream {
  readonly port: number
  /** Every request that reached it, in order. */
  readonly seen: readonly EchoedRequest[]
  /** Resolves with the first request (already seen or still to come) that `match` accepts. */
  waitFor(match: (r: EchoedRequest) => boolean): Promise<EchoedRequest>
  /**
   * Resolves once every request the echo answered so far is in `seen`. Its stdout line is
   * written before its answer, but reaches this process on another pipe than the answer (via
   * Envoy) does: a test that counted `seen` right after an answer could miss it. A request of
   * its own to the echo, waited for in the same stdout, orders the two; it is not in `seen`.
   */
  settled(): Promise<void>
  stop(): Promise<void>
}

/**
 * Runs the shipped echo upstream (deploy/echo/echo.mjs, the docker-compose demo's) as a real
 * process on a loopback port, reading what reached it from its stdout lines.
 */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const proc = spawn(process.execPath, ['deploy/echo/echo.mjs'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const seen: EchoedRequest[] = []
  const waiters = new Set<(r: EchoedRequest) => boolean>()
  const syncs = new Map<string, () => void>()
  let syncCount = 0
  let buffered = ''
  let resolvePort: (port: number) => void = () => {}
  const port = new Promise<number>((resolve) => (resolvePort = resolve))
  proc.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    let nl: number
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      const started = /^echo upstream on :(\d+)$/.exec(line)
      if (started !== null) {
        resolvePort(Number(started[1]))
        continue
      }
      const request = JSON.parse(line) as EchoedRequest
      const sync = syncs.get(request.path)
      if (sync !== undefined) {
        syncs.delete(request.path)
        sync()
        continue
      }
      seen.push(request)
      for (const waiter of waiters) if (waiter(request)) waiters.delete(waiter)
    }
  })
  const exited = once(proc, 'exit')
  const bound = await Promise.race([
    port,
    exited.then(() => {
      throw new Error('the echo upstream exited before listening')
    }),
  ])
  return {
    port: bound,
    seen,
    waitFor: (match) => {
      const already = seen.find(match)
      if (already !== undefined) return Promise.resolve(already)
      return new Promise((resolve) => {
        waiters.add((r) => {
          if (!match(r)) return false
          resolve(r)
          return true
        })
      })
    },
    settled: async () => {
      const path = `/__echo-settled-${++syncCount}`
      const logged = new Promise<void>((resolve) => syncs.set(path, resolve))
      const res = await fetch(`http://127.0.0.1:${bound}${path}`)
      await res.arrayBuffer()
      await logged
    },
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        await exited
      }
    },
  }
}
