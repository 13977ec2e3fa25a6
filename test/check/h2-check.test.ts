import assert from 'node:assert/strict'
import { connect, type IncomingHttpHeaders } from 'node:http2'
import { after, before, describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { loadAuthorizationService } from '../../src/proto/load.js'
import type { CheckRequest, CheckResponse } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { gatewayConfigWithRemoteIdp, startRemoteIdp } from '../helpers/remote-idp.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const CHECK = '/envoy.service.auth.v3.Authorization/Check'
const service = loadAuthorizationService()

interface Answer {
  readonly headers: IncomingHttpHeaders
  readonly trailers: IncomingHttpHeaders
  readonly body: Buffer
}

/** The gRPC status of an answer: in its trailers, or its only HEADERS frame. */
const grpcStatus = (a: Answer) => Number(a.trailers['grpc-status'] ?? a.headers['grpc-status'])

/** One call on a raw HTTP/2 connection: what a gRPC client sends, byte for byte. */
async function call(
  address: string,
  headers: Record<string, string>,
  body: Buffer,
  opts: { end?: boolean } = {},
): Promise<Answer> {
  const session = connect(`http://${address}`)
  try {
    const stream = session.request({ ':method': 'POST', te: 'trailers', ...headers })
    const chunks: Buffer[] = []
    let answer: IncomingHttpHeaders = {}
    let trailers: IncomingHttpHeaders = {}
    stream.on('response', (h) => (answer = h))
    stream.on('trailers', (t) => (trailers = t))
    stream.on('data', (c: Buffer) => chunks.push(c))
    if (opts.end === false) stream.write(body)
    else stream.end(body)
    await new Promise((resolve) => stream.once('close', resolve))
    return { headers: answer, trailers, body: Buffer.concat(chunks) }
  } finally {
    session.close()
  }
}

function framed(message: Buffer, compressed = false): Buffer {
  const prefix = Buffer.alloc(5)
  prefix[0] = compressed ? 1 : 0
  prefix.writeUInt32BE(message.length, 1)
  return Buffer.concat([prefix, message])
}

const grpc = { ':path': CHECK, 'content-type': 'application/grpc' }
const aliceRequest: CheckRequest = checkRequest({
  method: 'POST',
  path: '/openai',
  headers: { authorization: `Bearer ${ALICE_TOKEN}` },
})
const aliceBytes = service.Check!.requestSerialize(aliceRequest)

function decoded(a: Answer): CheckResponse {
  return service.Check!.responseDeserialize(a.body.subarray(5)) as CheckResponse
}

describe('the Check transport (node:http2) behaves as the grpc-js server did', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer({ file: 'examples/llm-gateway.yaml' })
  })
  after(() => server.close())

  test('a Check is answered 200, its message framed, grpc-status 0 in the trailers', async () => {
    const a = await call(server.address, grpc, framed(aliceBytes))
    assert.equal(a.headers[':status'], 200)
    assert.equal(a.headers['content-type'], 'application/grpc+proto')
    assert.equal(grpcStatus(a), 0)
    assert.equal(decoded(a).status?.code, 0, 'Alice is allowed on /openai')
  })

  test('a gzip-compressed Check message is read as grpc-js read it', async () => {
    const headers = { ...grpc, 'grpc-encoding': 'gzip' }
    const a = await call(server.address, headers, framed(gzipSync(aliceBytes), true))
    assert.equal(grpcStatus(a), 0)
    assert.equal(decoded(a).status?.code, 0)
  })

  test('other methods on the port are grpc-js’s: one it does not serve is UNIMPLEMENTED', async () => {
    const headers = { ...grpc, ':path': '/envoy.service.auth.v3.Authorization/Nope' }
    const a = await call(server.address, headers, framed(Buffer.alloc(0)))
    assert.equal(grpcStatus(a), 12)
  })

  test('a content type that is not gRPC is refused 415 before any message is read', async () => {
    const a = await call(
      server.address,
      { ':path': CHECK, 'content-type': 'text/plain' },
      aliceBytes,
    )
    assert.equal(a.headers[':status'], 415)
  })

  test('a malformed grpc-timeout is INTERNAL, as grpc-js answered it', async () => {
    const a = await call(
      server.address,
      { ...grpc, 'grpc-timeout': '1 second' },
      framed(aliceBytes),
    )
    assert.equal(grpcStatus(a), 13)
  })

  test('a message declared larger than 16 MiB is RESOURCE_EXHAUSTED before it is read whole', async () => {
    const prefix = Buffer.alloc(5)
    prefix.writeUInt32BE(16 * 1024 * 1024 + 1, 1)
    // The stream stays open: the answer comes from the prefix alone.
    const a = await call(server.address, grpc, prefix, { end: false })
    assert.equal(grpcStatus(a), 8)
  })

  test('bytes past the one message declared are INTERNAL at once, not buffered to the end', async () => {
    // The stream stays open: before, every byte was kept until the client ended the stream,
    // so a small prefix followed by an endless body grew without bound.
    const body = Buffer.concat([framed(aliceBytes), Buffer.alloc(64 * 1024)])
    const a = await call(server.address, grpc, body, { end: false })
    assert.equal(grpcStatus(a), 13)
    assert.equal(decodeURI(String(a.headers['grpc-message'])), 'Expected one message')
  })

  test('a truncated message and two messages in one unary call are INTERNAL', async () => {
    const whole = framed(aliceBytes)
    for (const body of [whole.subarray(0, whole.length - 1), Buffer.concat([whole, whole])]) {
      assert.equal(grpcStatus(await call(server.address, grpc, body)), 13)
    }
  })
})

test('a Check still undecided at its grpc-timeout is answered DEADLINE_EXCEEDED', async (t) => {
  const idp = await startRemoteIdp()
  t.after(() => idp.close())
  // The first fetch of the IdP's keys never answers: the Check waits for keys (checkWait).
  idp.server.behaviour = 'hang'
  const server = await startTestServer({
    file: gatewayConfigWithRemoteIdp(idp, { timeout: '60s', checkWait: '30s' }),
  })
  t.after(() => server.close())
  const request = checkRequest({
    method: 'POST',
    path: '/openai',
    headers: { authorization: `Bearer ${await idp.token('carol')}` },
  })
  const bytes = framed(service.Check!.requestSerialize(request))
  const a = await call(server.address, { ...grpc, 'grpc-timeout': '200m' }, bytes)
  assert.equal(grpcStatus(a), 4)
})
