import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo, Socket } from 'node:net'

/*
 * A real OTLP/HTTP traces receiver for tests: it decodes what exporters POST to /v1/traces,
 * protobuf and JSON alike with the code OpenTelemetry generated from the official
 * opentelemetry-proto files (@opentelemetry/otlp-transformer 0.216, the last release shipping
 * it, as the devDependency `otlp-decoders`).
 */

interface KeyValue {
  key: string
  value?: {
    stringValue?: string | null
    boolValue?: boolean | null
    intValue?: number | string | { toNumber(): number } | null
    doubleValue?: number | null
  } | null
}
interface WireSpan {
  traceId: Uint8Array
  spanId: Uint8Array
  parentSpanId?: Uint8Array | null
  name: string
  kind?: number | null
  attributes?: KeyValue[] | null
  status?: { code?: number | null } | null
}
interface WireRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] | null } | null
    scopeSpans?: { spans?: WireSpan[] | null }[] | null
  }[]
}
interface Decoder {
  decode(bytes: Uint8Array): WireRequest
  fromObject(message: unknown): WireRequest
}

const generated = createRequire(import.meta.url)('otlp-decoders/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: Decoder } } } } }
}
const REQUEST = generated.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest

/** OTLP `Span.SpanKind`. */
export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const

export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  /** '' for a root span. */
  readonly parentSpanId: string
  readonly name: string
  readonly kind: number
  readonly attributes: Readonly<Record<string, string | number | boolean>>
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number
  /** The `service.name` of the resource that sent it. */
  readonly service: string
  readonly contentType: string
}

export type ReceiverMode = 'accept' | 'hang'

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>/v1/traces` */
  readonly url: string
  readonly spans: readonly ReceivedSpan[]
  /** Export requests that reached it (hanging ones too). */
  readonly requests: () => number
  /** Resolves with the first span (received before or after the call) that `match` accepts. */
  waitFor(match: (span: ReceivedSpan) => boolean): Promise<ReceivedSpan>
  close(): Promise<void>
}

/** Starts a receiver on a loopback port chosen by the OS. `hang`: never answers an export. */
export async function startOtlpReceiver(mode: ReceiverMode = 'accept'): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const waiters = new Set<{
    match: (s: ReceivedSpan) => boolean
    resolve: (s: ReceivedSpan) => void
  }>()
  const sockets = new Set<Socket>()
  let requests = 0
  const server = createServer((req, res) => {
    requests++
    if (mode === 'hang') return
    void collect(req, res).then((received) => {
      for (const span of received) {
        spans.push(span)
        for (const waiter of waiters)
          if (waiter.match(span)) {
            waiters.delete(waiter)
            waiter.resolve(span)
          }
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    requests: () => requests,
    waitFor: (match) => {
      const seen = spans.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve) => waiters.add({ match, resolve }))
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

async function collect(req: IncomingMessage, res: ServerResponse): Promise<ReceivedSpan[]> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = Buffer.concat(chunks)
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim()
  if (req.method !== 'POST' || req.url !== '/v1/traces') {
    res.writeHead(404).end()
    return []
  }
  let message: WireRequest
  try {
    message = contentType === 'application/json' ? fromJson(body) : REQUEST.decode(body)
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err))
    return []
  }
  // An empty ExportTraceServiceResponse: zero bytes in protobuf, `{}` in JSON.
  res
    .writeHead(200, { 'content-type': contentType })
    .end(contentType === 'application/json' ? '{}' : '')
  return flatten(message, contentType)
}

/**
 * OTLP/JSON is the proto3 JSON mapping except that trace and span ids are hex, not base64:
 * turn them into base64, then let the generated `fromObject` check every field against the
 * proto (it throws on a wrong type) and convert (64-bit times as strings, enums as numbers).
 */
function fromJson(body: Buffer): WireRequest {
  const message = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]
  }
  for (const rs of message.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const span of ss.spans ?? [])
        for (const id of ['traceId', 'spanId', 'parentSpanId'])
          if (typeof span[id] === 'string')
            span[id] = Buffer.from(span[id] as string, 'hex').toString('base64')
  return REQUEST.fromObject(message)
}

function flatten(message: WireRequest, contentType: string): ReceivedSpan[] {
  return (message.resourceSpans ?? []).flatMap((rs) => {
    const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '')
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: hex(s.parentSpanId),
        name: s.name,
        kind: s.kind ?? 0,
        attributes: attributesOf(s.attributes),
        statusCode: s.status?.code ?? 0,
        service,
        contentType,
      })),
    )
  })
}

function hex(id: Uint8Array | null | undefined): string {
  return id === null || id === undefined ? '' : Buffer.from(id).toString('hex')
}

function attributesOf(
  list: KeyValue[] | null | undefined,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const { key, value } of list ?? []) {
    if (value === null || value === undefined) continue
    if (typeof value.stringValue === 'string') out[key] = value.stringValue
    else if (typeof value.boolValue === 'boolean') out[key] = value.boolValue
    else if (typeof value.doubleValue === 'number') out[key] = value.doubleValue
    else if (value.intValue !== null && value.intValue !== undefined)
      out[key] =
        typeof value.intValue === 'object' ? value.intValue.toNumber() : Number(value.intValue)
  }
  return out
}
