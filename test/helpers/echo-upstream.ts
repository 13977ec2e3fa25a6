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
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        await exited
      }
    },
  }
}
