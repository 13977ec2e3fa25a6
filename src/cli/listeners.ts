import { setLogger } from '@grpc/grpc-js'
import { format } from 'node:util'
import type { Logger } from '../ops/log.js'
import { CommandFailed } from './usage-error.js'

interface Closable {
  close(timeoutMs?: number): Promise<void>
}

/** The flag that sets each listener, so a bind failure can say what to change. */
export type ListenerFlag = '--grpc' | '--http' | '--http-authz'

/**
 * The listeners `serve` binds at start. If one cannot bind, the ones already bound are
 * closed (else their sockets would keep the process alive after the error) and the error
 * becomes one line naming the address, the flag and what to do.
 */
export class ListenerGroup {
  readonly #bound: Closable[] = []

  async bind<T extends Closable>(
    flag: ListenerFlag,
    address: string,
    start: () => Promise<T>,
  ): Promise<T> {
    try {
      const listener = await start()
      this.#bound.push(listener)
      return listener
    } catch (err) {
      await Promise.all(this.#bound.splice(0).map((l) => l.close(0)))
      throw explainBindError(err, flag, address)
    }
  }
}

const CONFIG_KEY: Readonly<Record<ListenerFlag, string>> = {
  '--grpc': 'listen.grpc',
  '--http': 'listen.http',
  '--http-authz': 'listen.httpAuthz',
}

/** grpc-js reports a failed bind inside its message; node:net in `code`. */
export function explainBindError(err: unknown, flag: ListenerFlag, address: string): unknown {
  const code = (err as { code?: unknown }).code
  const text = `${typeof code === 'string' || typeof code === 'number' ? code : ''} ${(err as Error).message ?? ''}`
  const where = `cannot listen on ${address} (${flag} or ${CONFIG_KEY[flag]})`
  const choose = `pick another with ${flag} HOST:PORT (port 0 takes any free one)`
  if (text.includes('EADDRINUSE'))
    return new CommandFailed(
      `${where}: the address is in use. Is another jwt-ext-authz already running? Stop it, or ${choose}.`,
    )
  if (text.includes('EACCES'))
    return new CommandFailed(
      `${where}: permission denied (ports below 1024 need privileges); ${choose}.`,
    )
  if (/EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN|Name resolution failed/.test(text))
    return new CommandFailed(`${where}: not an address of this machine; ${choose}.`)
  if (/not a host:port address|Failed to parse DNS address|ERR_SOCKET_BAD_PORT/.test(text))
    return new CommandFailed(
      `${where}: expected HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:9001 or [::]:9001`,
    )
  return err
}

/**
 * grpc-js writes its own errors (a failed bind among them) to stderr as `E ...` lines; they
 * go through our JSON log instead, so stderr stays one format.
 */
export function routeGrpcLogs(log: Logger): void {
  const line = (message?: unknown, ...params: unknown[]): void =>
    log.warn({ grpcJs: format(message, ...params).replace(/^[EID] /, '') }, 'grpc-js')
  setLogger({ error: line, info: line, debug: line })
}
