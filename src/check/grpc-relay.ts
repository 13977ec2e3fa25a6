import { ServerCredentials, type Server } from '@grpc/grpc-js'
import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2'
import { duplexPair } from '../lib/duplex-pair.js'

export interface GrpcRelay {
  /** Hands one call (a stream of the Check port) to the grpc-js server, as it came. */
  relay(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void
  /** Closes the in-process connection; calls on it end. */
  close(): void
}

/**
 * Every call on the Check port but Check itself (grpc.health.v1 and whatever else is added to
 * `server`) is served by grpc-js, reached over one in-process HTTP/2 connection: a memory pipe,
 * not a socket anyone else could reach. Headers, messages, trailers and cancellation pass
 * both ways unchanged, so to a caller the port is one gRPC server.
 */
export function relayTo(server: Server): GrpcRelay {
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure())
  let session: ClientHttp2Session | undefined
  const open = (): ClientHttp2Session => {
    const [ours, theirs] = duplexPair()
    injector.injectConnection(theirs)
    const opened = connect('http://in-process', { createConnection: () => ours })
    opened.on('error', () => {})
    opened.once('close', () => {
      if (session === opened) session = undefined
    })
    return opened
  }
  return {
    relay: (stream, headers) => {
      if (session === undefined || session.closed || session.destroyed) session = open()
      forward(session, stream, headers)
    },
    close: () => {
      session?.close()
      injector.destroy()
    },
  }
}

function forward(
  session: ClientHttp2Session,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
): void {
  const upstream = session.request(headers as OutgoingHttpHeaders, { endStream: false })
  upstream.on('error', () => {})
  stream.pipe(upstream)
  let trailers: OutgoingHttpHeaders = {}
  upstream.once('response', (response, flags) => {
    if (stream.destroyed || stream.closed) return
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      stream.respond(response, { endStream: true })
      return
    }
    stream.respond(response, { waitForTrailers: true })
    stream.once('wantTrailers', () => {
      if (!stream.destroyed && !stream.closed) stream.sendTrailers(trailers)
    })
    upstream.pipe(stream)
  })
  upstream.once('trailers', (received) => (trailers = received))
  endTogether(stream, upstream)
}

/** A call cancelled on one side is cancelled on the other. */
function endTogether(stream: ServerHttp2Stream, upstream: ClientHttp2Stream): void {
  stream.once('close', () => {
    if (!upstream.closed) upstream.close(constants.NGHTTP2_CANCEL)
  })
  upstream.once('close', () => {
    if (!stream.closed && !stream.headersSent) stream.close(constants.NGHTTP2_INTERNAL_ERROR)
    else if (!stream.closed && upstream.rstCode !== constants.NGHTTP2_NO_ERROR) {
      stream.close(upstream.rstCode)
    }
  })
}
