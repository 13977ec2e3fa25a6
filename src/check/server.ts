import { Server } from '@grpc/grpc-js'
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2'
import type { Socket } from 'node:net'
import { splitHostPort } from '../lib/address.js'
import { listenOn } from '../lib/listen.js'
import { listenGrpcOverTls } from '../tls/grpc-listener.js'
import type { ServerTls } from '../tls/server-tls.js'
import { relayTo } from './grpc-relay.js'
import { CHECK_PATH, createCheckStreamHandler } from './h2-check.js'
import { addHealthService } from './health.js'
import type { CheckServiceDeps } from './service.js'

/**
 * A larger Check message is answered RESOURCE_EXHAUSTED, a gRPC error that Envoy with
 * failure_mode_allow would let through; so the cap sits well above `limits` (whose excess
 * is a deny) and Envoy's with_request_body.max_request_bytes must stay below it.
 */
const MAX_CHECK_REQUEST_BYTES = 16 * 1024 * 1024

export { CHECK_SERVICE_NAME } from './health.js'

export interface RunningCheckServer {
  readonly port: number
  /** Reads readiness now for grpc.health.v1 (done before every health call anyway). */
  syncHealth(): void
  /** Stops taking new calls, lets in-flight Checks finish within `timeoutMs`, then closes. */
  close(timeoutMs?: number): Promise<void>
}

/**
 * Starts the gRPC server on `address` (`host:port`; port 0 picks one), over TLS (mutual when
 * `tls` has a client CA) or, without `tls`, plaintext. Check is served on node:http2 directly
 * (h2-check.ts: grpc-js's per-call work and its answering every Check of a read before any
 * leaves cost 2–3× the transport's floor, BENCHMARKS.md); every other method, grpc.health.v1
 * among them, by grpc-js behind it (grpc-relay.ts). The health of the Check service follows
 * `ready` (check/health.ts).
 */
export async function startCheckServer(
  address: string,
  deps: CheckServiceDeps,
  ready: () => boolean = () => true,
  tls?: ServerTls,
): Promise<RunningCheckServer> {
  const grpc = new Server()
  const health = addHealthService(grpc, ready)
  const relay = relayTo(grpc)
  const onCheck = createCheckStreamHandler(deps, MAX_CHECK_REQUEST_BYTES)
  // As grpc-js sets up its own HTTP/2 servers: no idle timeout, no session memory cap (Node
  // degrades badly at it; a Check is bounded by MAX_CHECK_REQUEST_BYTES instead).
  const h2 = createServer({ maxSessionMemory: Number.MAX_SAFE_INTEGER })
  h2.on('connection', (socket: Socket) => socket.setNoDelay(true))
  h2.setTimeout(0)
  h2.on('stream', (stream, headers) => {
    // A stream's errors end in its 'close'; unhandled, one would end the process.
    stream.on('error', ignore)
    if (headers[':path'] === CHECK_PATH) onCheck(stream, headers)
    else relay.relay(stream, headers)
  })
  const sessions = trackSessions(h2)
  const tlsListener =
    tls === undefined
      ? undefined
      : await listenGrpcOverTls((socket) => h2.emit('connection', socket), address, tls)
  const { host, port } = splitHostPort(address)
  const boundPort = tlsListener?.port ?? (await listenOn(h2, host, port))
  return {
    port: boundPort,
    syncHealth: () => health.sync(),
    close: async (timeoutMs = 10_000) => {
      tlsListener?.close()
      if (h2.listening) h2.close()
      health.stop()
      await sessions.drain(timeoutMs)
      relay.close()
      grpc.forceShutdown()
    },
  }
}

/** The open HTTP/2 sessions, so a drain can send each a GOAWAY and wait for its calls. */
function trackSessions(h2: Http2Server) {
  const open = new Set<ServerHttp2Session>()
  let draining = false
  h2.on('session', (session: ServerHttp2Session) => {
    open.add(session)
    session.once('close', () => open.delete(session))
    // A connection accepted as the drain began gets its GOAWAY too.
    if (draining) session.close()
  })
  return {
    /** GOAWAY to every session; resolves when all closed, destroying what is left at `timeoutMs`. */
    drain: async (timeoutMs: number): Promise<void> => {
      draining = true
      const closed = [...open].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed) return resolve()
            s.once('close', () => resolve())
            s.close()
          }),
      )
      const force = setTimeout(() => {
        for (const session of open) session.destroy()
      }, timeoutMs)
      await Promise.all(closed)
      clearTimeout(force)
    },
  }
}

function ignore(): void {}
