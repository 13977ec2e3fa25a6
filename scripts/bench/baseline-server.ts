// The baseline the benchmark compares with: a grpc-js server on our protos whose Check
// always answers one fixed allow, doing nothing else. Run in its own process, as our server is.
// With a CheckResponse JSON file (bench:envoy passes the answer ours gave the hot token), it
// answers exactly that, encoded once: Envoy then applies the same headers and metadata for
// both, and the pair compares what the authorizers do, not what their answers ask of Envoy.
import { readFileSync } from 'node:fs'
import { Server, ServerCredentials, status } from '@grpc/grpc-js'
import { loadAuthorizationService } from '../../src/proto/load.js'

const address = process.argv[2] ?? '127.0.0.1:0'
const answerFile = process.argv[3]
const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 })
const service = loadAuthorizationService()
const answer: unknown =
  answerFile === undefined
    ? { status: { code: status.OK, message: '' }, ok_response: {} }
    : JSON.parse(readFileSync(answerFile, 'utf8'))
// `turn` (argv[4]): one answer per event-loop turn, so each one's frames are flushed before
// the next is handled: what a handler can do about Node's write timing from inside grpc-js.
const perTurn = process.argv[4] === 'turn'
const queue: (() => void)[] = []
function answerNext(): void {
  queue.shift()?.()
  if (queue.length > 0) setImmediate(answerNext)
}
const bytes = service.Check!.responseSerialize(answer)
server.addService(
  { ...service, Check: { ...service.Check!, responseSerialize: (b: Buffer) => b } },
  {
    Check: (_call: unknown, callback: (err: null, res: Buffer) => void) => {
      if (!perTurn) return callback(null, bytes)
      queue.push(() => callback(null, bytes))
      if (queue.length === 1) setImmediate(answerNext)
    },
  },
)
server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err
  process.stdout.write(`baseline listening ${port}\n`)
})
process.on('SIGTERM', () => server.forceShutdown())
