import type { ServerHttp2Stream } from 'node:http2'
import { gunzipSync, inflateSync } from 'node:zlib'

/** The gRPC status codes this transport answers with (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
} as const

/** A call answered with a gRPC status instead of a message (a malformed or oversized call). */
export interface GrpcFailure {
  readonly code: number
  readonly message: string
}

const PREFIX = 5
const TRUNCATED: GrpcFailure = { code: GrpcStatus.INTERNAL, message: 'Truncated message' }
const SECOND_MESSAGE: GrpcFailure = { code: GrpcStatus.INTERNAL, message: 'Expected one message' }

/** `bytes` as one length-prefixed gRPC message (uncompressed). */
export function frameMessage(bytes: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(PREFIX + bytes.length)
  framed[0] = 0
  framed.writeUInt32BE(bytes.length, 1)
  framed.set(bytes, PREFIX)
  return framed
}

/**
 * Reads the one message of a unary call from `stream` and calls `done` once, with its bytes
 * or with the status to answer. Bounded: past `maxBytes` it answers RESOURCE_EXHAUSTED at
 * once, as grpc-js does, without buffering the rest.
 */
export function readUnaryMessage(
  stream: ServerHttp2Stream,
  maxBytes: number,
  encoding: string | undefined,
  done: (message: Buffer | GrpcFailure) => void,
): void {
  const chunks: Buffer[] = []
  let total = 0
  const onData = (chunk: Buffer): void => {
    total += chunk.length
    chunks.push(chunk)
    if (total < PREFIX) return
    // Answered as soon as the bytes say so, the rest unread: a message declared too large, or
    // bytes past the one message declared (which would otherwise be buffered until the end).
    const declared = declaredLength(chunks)
    if (declared > maxBytes) stop(tooLarge(declared, maxBytes))
    else if (total > PREFIX + declared) stop(SECOND_MESSAGE)
  }
  const stop = (failure: GrpcFailure): void => {
    stream.off('data', onData)
    stream.off('end', onEnd)
    stream.resume()
    chunks.length = 0
    done(failure)
  }
  const onEnd = (): void => {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)
    done(unframe(all, maxBytes, encoding))
  }
  stream.on('data', onData)
  stream.once('end', onEnd)
}

/** The length in the message prefix (the first 5 bytes, which may span chunks). */
function declaredLength(chunks: readonly Buffer[]): number {
  const first = chunks[0]!
  const head = first.length >= PREFIX ? first : Buffer.concat(chunks).subarray(0, PREFIX)
  return head.readUInt32BE(1)
}

function tooLarge(length: number, max: number): GrpcFailure {
  const message = `Received message larger than max (${length} vs ${max})`
  return { code: GrpcStatus.RESOURCE_EXHAUSTED, message }
}

function unframe(
  all: Buffer,
  maxBytes: number,
  encoding: string | undefined,
): Buffer | GrpcFailure {
  if (all.length < PREFIX) return { code: GrpcStatus.INTERNAL, message: 'No message received' }
  const length = all.readUInt32BE(1)
  if (all.length !== PREFIX + length) {
    return all.length < PREFIX + length ? TRUNCATED : SECOND_MESSAGE
  }
  const body = all.subarray(PREFIX)
  return all[0] === 0 ? body : decompress(body, maxBytes, encoding)
}

/** grpc-js accepts gzip and deflate messages; so do we (Envoy sends them uncompressed). */
function decompress(body: Buffer, maxBytes: number, encoding: string | undefined) {
  const options = { maxOutputLength: maxBytes }
  try {
    if (encoding === 'gzip') return gunzipSync(body, options)
    if (encoding === 'deflate') return inflateSync(body, options)
  } catch {
    return { code: GrpcStatus.INTERNAL, message: `Failed to decompress a ${encoding} message` }
  }
  const message = `Compressed message with grpc-encoding ${encoding ?? 'identity'}`
  return { code: GrpcStatus.UNIMPLEMENTED, message }
}
