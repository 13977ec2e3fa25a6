import { credentials, status, type ServiceError } from '@grpc/grpc-js'
import { loadAuthorizationClient } from '../proto/load.js'
import { fromStruct } from '../proto/struct.js'
import type {
  CheckRequest,
  CheckResponse,
  HeaderValueOption,
  Struct,
  StructValue,
} from '../proto/types.js'
import type { OptionValues } from './command.js'
import type { CHECK } from './specs.js'
import { UsageError } from './usage-error.js'

/**
 * Header names whose values are credentials: `authorization`, `x-api-key`, `api-key`
 * (Azure OpenAI), `x-goog-api-key`, `cookie`... The Check answer does not say which header a
 * secret filled, so the name decides.
 */
const SENSITIVE = /auth|key|token|secret|cookie|credential|password|session/i

/** `jwt-ext-authz check`: one real Check against a running server, printed for a human. */
export async function runCheckCommand(values: OptionValues<typeof CHECK.options>): Promise<number> {
  const timeoutMs = Number(values.timeout)
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new UsageError(`--timeout takes milliseconds, got ${values.timeout}`)
  const headers: Record<string, string> = {}
  for (const h of values.header) {
    const colon = h.indexOf(':')
    if (colon <= 0) throw new UsageError(`--header needs 'name: value', got ${h}`)
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim()
  }
  if (values.token !== undefined) headers.authorization = `Bearer ${values.token}`
  const request = buildRequest({
    method: values.method.toUpperCase(),
    scheme: values.scheme,
    host: values.host,
    path: values.path,
    headers,
    contextExtensions: pairs(values['context-extension']),
    body: values.body,
  })
  let response: CheckResponse
  try {
    response = await sendCheck(values.address, request, timeoutMs)
  } catch (err) {
    process.stderr.write(`${whyNoAnswer(err as ServiceError, values.address, timeoutMs)}\n`)
    return 2
  }
  const shown = values['show-secrets'] ? response : maskCredentials(response)
  process.stdout.write(values.json ? `${JSON.stringify(shown, null, 2)}\n` : describe(shown))
  return response.status?.code === 0 ? 0 : 1
}

/** One line a person can act on, not grpc-js's connection diagnostics. */
function whyNoAnswer(err: ServiceError, address: string, timeoutMs: number): string {
  if (err.code === status.UNAVAILABLE)
    return `check: nothing answers gRPC Check on ${address}: start the service (jwt-ext-authz serve --config FILE, or npm start), or name its address with --address HOST:PORT`
  if (err.code === status.DEADLINE_EXCEEDED)
    return `check: ${address} did not answer within ${timeoutMs} ms (--timeout MS)`
  return `check failed: ${err.details || err.message}`
}

function pairs(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of items) {
    const eq = item.indexOf('=')
    if (eq <= 0) throw new UsageError(`expected key=value, got ${item}`)
    out[item.slice(0, eq)] = item.slice(eq + 1)
  }
  return out
}

interface RequestParts {
  readonly method: string
  readonly scheme: string
  readonly host: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly contextExtensions: Record<string, string>
  /** As Envoy's with_request_body sends it (model-aware rules read it). */
  readonly body: string | undefined
}

function buildRequest({
  method,
  scheme,
  host,
  path,
  headers,
  contextExtensions,
  body,
}: RequestParts): CheckRequest {
  return {
    attributes: {
      request: {
        http: {
          method,
          scheme,
          host,
          path,
          protocol: 'HTTP/1.1',
          ...(body === undefined ? {} : { body, size: String(Buffer.byteLength(body)) }),
          headers: {
            ':method': method,
            ':path': path,
            ':authority': host,
            ':scheme': scheme,
            ...headers,
          },
        },
      },
      context_extensions: contextExtensions,
    },
  }
}

function sendCheck(
  address: string,
  request: CheckRequest,
  timeoutMs: number,
): Promise<CheckResponse> {
  const Client = loadAuthorizationClient()
  const client = new Client(address, credentials.createInsecure())
  return new Promise<CheckResponse>((resolve, reject) => {
    client.Check(
      request,
      { deadline: Date.now() + timeoutMs },
      (err: ServiceError | null, res: CheckResponse) => {
        client.close()
        if (err) reject(err)
        else resolve(res)
      },
    )
  })
}

function describe(res: CheckResponse): string {
  const lines: string[] = []
  if (res.status?.code === 0 || res.status === undefined || res.status === null) {
    lines.push('ALLOWED')
    for (const h of res.ok_response?.headers ?? [])
      lines.push(`  set upstream header  ${formatHeader(h)}`)
    for (const name of res.ok_response?.headers_to_remove ?? [])
      lines.push(`  remove upstream header  ${name}`)
    if (res.dynamic_metadata)
      lines.push(`  dynamic_metadata  ${JSON.stringify(fromStruct(res.dynamic_metadata))}`)
  } else {
    const denied = res.denied_response
    lines.push(
      `DENIED  HTTP ${denied?.status?.code ?? 403}  (gRPC status ${res.status.code}, reason ${res.status.message || 'unknown'})`,
    )
    for (const h of denied?.headers ?? []) lines.push(`  ${formatHeader(h)}`)
    lines.push(`  body: ${denied?.body ?? ''}`)
  }
  return `${lines.join('\n')}\n`
}

function formatHeader(h: HeaderValueOption): string {
  return `${h.header?.key ?? ''}: ${h.header?.value ?? ''}`
}

/**
 * The response with the credentials an allow injects upstream masked: terminal output ends
 * up in CI logs and tickets. Keeps the scheme and four characters so a wrong key is spotted.
 * A credential in dynamic_metadata (`credentialMetadata`, e.g. `x-aigw-api-key`) is masked
 * the same way; `key_id` names a key without being one and is shown.
 */
export function maskCredentials(res: CheckResponse): CheckResponse {
  const headers = res.ok_response?.headers
  if (headers === undefined) return res
  return {
    ...res,
    ok_response: {
      ...res.ok_response,
      headers: headers.map((h) => (SENSITIVE.test(h.header?.key ?? '') ? maskHeader(h) : h)),
    },
    ...(res.dynamic_metadata ? { dynamic_metadata: maskMetadata(res.dynamic_metadata) } : {}),
  }
}

function maskMetadata(metadata: Struct): Struct {
  const fields: Record<string, StructValue> = {}
  for (const [name, value] of Object.entries(metadata.fields ?? {})) {
    const secret = name !== 'key_id' && SENSITIVE.test(name) && value.stringValue !== undefined
    fields[name] = secret ? { stringValue: maskValue(value.stringValue!) } : value
  }
  return { ...metadata, fields }
}

/** A value in `raw_value` (bytes) is masked the same way, so JSON never carries it. */
function maskHeader(h: HeaderValueOption): HeaderValueOption {
  const raw = h.header?.raw_value
  const value = h.header?.value || (raw ? Buffer.from(raw).toString('latin1') : '')
  return { ...h, header: { key: h.header?.key ?? '', value: maskValue(value) } }
}

function maskValue(value: string): string {
  const space = value.indexOf(' ')
  const scheme = space > 0 && space < 10 ? value.slice(0, space + 1) : ''
  return `${scheme}${value.slice(scheme.length, scheme.length + 4)}… (${value.length - scheme.length} chars; --show-secrets to print)`
}
