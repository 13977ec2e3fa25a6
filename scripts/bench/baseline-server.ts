// The baseline the benchmark compares with: a grpc-js server on our protos whose Check
// always answers a fixed allow, doing nothing else. Run in its own process, as our server is.
import { Server, ServerCredentials, status } from '@grpc/grpc-js'
import { loadAuthorizationService } from '../../src/proto/load.js'

const address = process.argv[2] ?? '127.0.0.1:0'
const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 })
const ALLOW = Object.freeze({ status: { code: status.OK, message: '' }, ok_response: {} })
server.addService(loadAuthorizationService(), {
  Check: (_call: unknown, callback: (err: null, res: typeof ALLOW) => void) =>
    callback(null, ALLOW),
})
server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err
  process.stdout.write(`baseline listening ${port}\n`)
})
process.on('SIGTERM', () => server.forceShutdown())
