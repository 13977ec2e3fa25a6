import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2'
import { decodeCheckRequest } from '../proto/load.js'
import type { TraceMetadata } from '../tracing/check-tracer.js'
import { frameMessage, GrpcStatus, readUnaryMessage, type GrpcFailure } from './grpc-message.js'
import { answerCheckRequest, type CheckServiceDeps } from './service.js'
import { TurnQueue } from './turns.js'

/** The one method this transport serves itself; every other goes to grpc-js (grpc-relay.ts). */
export const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check'

const RESPONSE_HEADERS = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
})
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0', 'grpc-message': '' })

/**
 * Serves Authorization/Check on node:http2 streams, with grpc-js's wire behaviour: the
 * message read and bounded (`maxBytes`, RESOURCE_EXHAUSTED past it), a `grpc-timeout` met
 * with DEADLINE_EXCEEDED, a cancelled call left unanswered, 415 for a content type that is
 * not gRPC. Each Check is answered in its own event-loop turn (TurnQueue): its frames, the
 * trailers included, leave before the next Check of the same read is handled.
 */
export function createCheckStreamHandler(
  deps: CheckServiceDeps,
  maxBytes: number,
): (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void {
  const turns = new TurnQueue()
  return (stream, headers) => {
    const contentType = headers['content-type']
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true })
      return
    }
    const deadline = deadlineOf(headers['grpc-timeout'])
    if (typeof deadline === 'object') return sendStatus(stream, deadline)
    const encoding = headers['grpc-encoding']?.toString()
    readUnaryMessage(stream, maxBytes, encoding, (message) => {
      if (!Buffer.isBuffer(message)) return sendStatus(stream, message)
      turns.run(() => answerStream(deps, stream, message, headers, deadline))
    })
  }
}

function answerStream(
  deps: CheckServiceDeps,
  stream: ServerHttp2Stream,
  message: Buffer,
  headers: IncomingHttpHeaders,
  deadline: number | undefined,
): void {
  let timer: NodeJS.Timeout | undefined
  if (deadline !== undefined) {
    const late = { code: GrpcStatus.DEADLINE_EXCEEDED, message: 'Deadline exceeded' }
    timer = setTimeout(() => sendStatus(stream, late), Math.max(0, deadline - Date.now()))
  }
  answerCheckRequest(
    deps,
    () => decodeCheckRequest(message),
    (response) => {
      clearTimeout(timer)
      sendMessage(stream, response)
    },
    new HeaderMetadata(headers),
  )
}

/** A stream that can still take an answer: not cancelled, not answered (a deadline did). */
function answerable(stream: ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed && !stream.headersSent
}

function sendMessage(stream: ServerHttp2Stream, response: Buffer): void {
  if (!answerable(stream)) return
  stream.respond(RESPONSE_HEADERS, { waitForTrailers: true })
  stream.once('wantTrailers', sendOkTrailers)
  stream.end(frameMessage(response))
}

function sendOkTrailers(this: ServerHttp2Stream): void {
  if (!this.destroyed && !this.closed) this.sendTrailers(OK_TRAILERS)
}

/**
 * A status without a message: one HEADERS frame that ends the stream ("trailers-only"). A
 * caller still sending (a message over the limit) is then told to stop with RST_STREAM(NO_ERROR),
 * as RFC 9113 section 8.1 allows, once the answer has had time to arrive.
 */
function sendStatus(stream: ServerHttp2Stream, failure: GrpcFailure): void {
  if (!answerable(stream)) return
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc+proto',
      'grpc-status': String(failure.code),
      'grpc-message': encodeURI(failure.message),
    },
    { endStream: true },
  )
  if (stream.readableEnded) return
  // The rest is read and dropped: closing at once (RST_STREAM) could reach the client before
  // the status did (Node 26's client then reports no status). One still sending a second
  // later is cut off.
  stream.resume()
  setTimeout(closeQuietly, STILL_SENDING_MS, stream).unref()
}

const STILL_SENDING_MS = 1000

function closeQuietly(stream: ServerHttp2Stream): void {
  if (!stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_NO_ERROR)
}

const TIMEOUT = /^(\d{1,8})([HMSmun])$/
const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
}

/** When the call's `grpc-timeout` runs out (epoch ms); a malformed one is INTERNAL, as in grpc-js. */
function deadlineOf(header: string | string[] | undefined): number | GrpcFailure | undefined {
  if (header === undefined) return undefined
  const value = String(header)
  const match = TIMEOUT.exec(value)
  if (match === null) {
    return { code: GrpcStatus.INTERNAL, message: `Invalid grpc-timeout value "${value}"` }
  }
  return Date.now() + Number(match[1]) * UNIT_MS[match[2]!]!
}

/** The call's headers as gRPC metadata, for the trace context Envoy sends. */
class HeaderMetadata implements TraceMetadata {
  readonly #headers: IncomingHttpHeaders
  constructor(headers: IncomingHttpHeaders) {
    this.#headers = headers
  }
  get(key: string): readonly string[] {
    const value = this.#headers[key]
    return value === undefined ? [] : Array.isArray(value) ? value : [value]
  }
}
