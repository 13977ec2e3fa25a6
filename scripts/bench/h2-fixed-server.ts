// A fixed-allow Check server on bare node:http2 (no grpc-js), for the latency evidence of
// `npm run bench:envoy`: what Node's HTTP/2 alone costs and when its frames leave.
//   node dist/scripts/bench/h2-fixed-server.js HOST:PORT ANSWER_FILE [sync|turn]
// `sync` answers each Check in the callback that received it (as grpc-js does); `turn`
// answers one Check per event-loop turn, so each answer's frames are flushed before the next
// Check is handled. Prints "h2 listening PORT". H2_SPIN_US=N spends N µs of CPU on each
// Check before answering: what a heavier handler alone does to the transport's latency.
import { createServer, constants, type ServerHttp2Stream } from 'node:http2'
import { readFileSync } from 'node:fs'

const [address = '127.0.0.1:0', answerFile, mode = 'sync'] = process.argv.slice(2)
const answer = readFileSync(answerFile!)
const frame = Buffer.alloc(5 + answer.length)
frame.writeUInt32BE(answer.length, 1)
answer.copy(frame, 5)

const HEADERS = {
  [constants.HTTP2_HEADER_STATUS]: 200,
  [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
}
const TRAILERS = { 'grpc-status': '0' }

const SPIN_NS = BigInt(Number(process.env.H2_SPIN_US ?? 0) * 1000)

// A stream Envoy reset (its timeout) is closed: answering it would throw and end the process.
function answerStream(stream: ServerHttp2Stream): void {
  if (stream.destroyed || stream.closed) return
  const until = process.hrtime.bigint() + SPIN_NS
  while (SPIN_NS > 0n && process.hrtime.bigint() < until);
  stream.respond(HEADERS, { waitForTrailers: true })
  stream.once('wantTrailers', () => {
    if (!stream.destroyed && !stream.closed) stream.sendTrailers(TRAILERS)
  })
  stream.end(frame)
}

const queue: ServerHttp2Stream[] = []
function drainOne(): void {
  const next = queue.shift()
  if (next !== undefined) answerStream(next)
  if (queue.length > 0) setImmediate(drainOne)
}

function ready(stream: ServerHttp2Stream): void {
  if (mode === 'sync') return answerStream(stream)
  queue.push(stream)
  if (queue.length === 1) setImmediate(drainOne)
}

const server = createServer({ maxSessionMemory: 64 })
server.on('stream', (stream) => {
  stream.on('error', () => {})
  stream.on('data', () => {})
  stream.once('end', () => ready(stream))
})
const [host, port] = [address.slice(0, address.lastIndexOf(':')), address.split(':').pop()]
server.listen(Number(port), host, () => {
  const bound = server.address()
  process.stdout.write(`h2 listening ${typeof bound === 'object' && bound ? bound.port : 0}\n`)
})
process.on('SIGTERM', () => process.exit(0))
