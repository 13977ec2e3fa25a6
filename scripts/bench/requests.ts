import { loadAuthorizationService } from '../../src/proto/load.js'
import type { CheckRequest } from '../../src/proto/types.js'

/** A CheckRequest as Envoy sends it for an LLM call: ~15 headers and a bearer token. */
export function benchRequest(token: string, path = '/openai/v1/chat/completions'): CheckRequest {
  return {
    attributes: {
      source: { address: { socket_address: { address: '10.244.0.17', port_value: 51234 } } },
      destination: { address: { socket_address: { address: '10.244.0.5', port_value: 8080 } } },
      request: {
        time: { seconds: '1795398000', nanos: 0 },
        http: {
          id: '8411234567890123456',
          method: 'POST',
          path,
          host: 'llm-gateway.example.com',
          scheme: 'https',
          protocol: 'HTTP/2',
          size: '182',
          headers: {
            ':authority': 'llm-gateway.example.com',
            ':method': 'POST',
            ':path': path,
            ':scheme': 'https',
            accept: 'application/json',
            'accept-encoding': 'gzip, deflate',
            authorization: `Bearer ${token}`,
            'content-length': '182',
            'content-type': 'application/json',
            'user-agent': 'OpenAI/Python 1.51.0',
            'x-forwarded-for': '203.0.113.7',
            'x-forwarded-proto': 'https',
            'x-request-id': '4f6c2a1e-8d3b-4b7e-9a2f-5c1d0e9b8a7f',
            'x-stainless-lang': 'python',
            'x-envoy-expected-rq-timeout-ms': '120000',
          },
        },
      },
      context_extensions: { route: 'openai' },
    },
  }
}

/** The request as one gRPC message on the wire: flag byte, 4-byte length, protobuf. */
export function grpcFrame(req: CheckRequest): Buffer {
  const message = loadAuthorizationService().Check!.requestSerialize(req)
  const header = Buffer.alloc(5)
  header.writeUInt32BE(message.length, 1)
  return Buffer.concat([header, message])
}
