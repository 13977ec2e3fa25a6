import type { AuthRequest } from './auth-request.js'
import { repeatsKeyOnPath } from './json-duplicates.js'

/**
 * Where a rule takes a value from the request, written as one whole template:
 * `${request.body.model}` (a JSON body path, dotted), `${request.header.x-model}`,
 * `${request.path.model}` (a named group of the route's regex), `${request.segment.2}`
 * (0-based path segment).
 */
export type RequestValueSource =
  | { readonly kind: 'body'; readonly path: readonly string[]; readonly template: string }
  | { readonly kind: 'header'; readonly name: string; readonly template: string }
  | { readonly kind: 'capture'; readonly name: string; readonly template: string }
  | { readonly kind: 'segment'; readonly index: number; readonly template: string }

/** Why a request value could not be read; each is its own stable deny reason. */
export type RequestValueProblem =
  'body_missing' | 'body_truncated' | 'body_invalid' | 'body_ambiguous' | 'request_value_missing'

const PROBLEMS: ReadonlySet<string> = new Set([
  'body_missing',
  'body_truncated',
  'body_invalid',
  'body_ambiguous',
  'request_value_missing',
])

/** Whether `read()` answered a problem instead of a value. */
export function isProblem(v: string): v is RequestValueProblem {
  return PROBLEMS.has(v)
}

const TEMPLATE = /^\$\{request\.(body|header|path|segment)\.([^}]+)\}$/

/** The source a config string names, or undefined when it is a plain value. */
export function parseRequestValueSource(text: string): RequestValueSource | undefined {
  const m = TEMPLATE.exec(text)
  if (m === null) return undefined
  const [, kind, rest] = m as unknown as [string, string, string]
  if (kind === 'body') return { kind, path: rest.split('.'), template: text }
  if (kind === 'header') return { kind, name: rest.toLowerCase(), template: text }
  if (kind === 'path') return { kind: 'capture', name: rest, template: text }
  const index = Number(rest)
  if (!Number.isInteger(index) || index < 0)
    throw new Error(`${text}: a segment index is a whole number`)
  return { kind: 'segment', index, template: text }
}

/** Envoy sets this when the body was cut at with_request_body.max_request_bytes. */
const PARTIAL_BODY = 'x-envoy-auth-partial-body'
const UNREAD = Symbol('unread')

/**
 * The values rules read from one request. The JSON body is parsed at most once per Check and
 * only when a rule asks for it; a truncated, missing or non-JSON body is a problem, never an
 * allow, and so is a key repeated on the path a rule reads (`body_ambiguous`).
 */
export class RequestValues {
  readonly #req: AuthRequest
  readonly #captures: RegExpExecArray | null
  #json: unknown = UNREAD
  #text = ''
  /** Body paths already checked for repeated keys (a template read by rbac and a header). */
  #unambiguous: Set<readonly string[]> | undefined

  constructor(req: AuthRequest, pathRegex: RegExp | undefined) {
    this.#req = req
    this.#captures = pathRegex === undefined ? null : pathRegex.exec(req.pathname)
  }

  read(source: RequestValueSource): string | RequestValueProblem {
    switch (source.kind) {
      case 'header':
        return scalar(this.#req.headers.get(source.name)?.[0])
      case 'capture':
        return scalar(this.#captures?.groups?.[source.name])
      case 'segment':
        return scalar(
          decodeSegment(this.#req.pathname.split('/').filter((s) => s !== '')[source.index]),
        )
      case 'body':
        return this.#fromBody(source.path)
    }
  }

  #fromBody(path: readonly string[]): string | RequestValueProblem {
    if (this.#json === UNREAD) this.#json = this.#parseBody()
    if (typeof this.#json === 'string') return this.#json as RequestValueProblem
    if (!this.#unambiguous?.has(path)) {
      if (repeatsKeyOnPath(this.#text, path)) return 'body_ambiguous'
      ;(this.#unambiguous ??= new Set()).add(path)
    }
    let node = (this.#json as { value: unknown }).value
    for (const key of path) {
      if (
        typeof node !== 'object' ||
        node === null ||
        Array.isArray(node) ||
        !Object.hasOwn(node, key)
      ) {
        return 'request_value_missing'
      }
      node = (node as Record<string, unknown>)[key]
    }
    return scalar(node)
  }

  /** `{ value }` for a parsed body, or the problem as a string. */
  #parseBody(): { value: unknown } | RequestValueProblem {
    const { body, headers } = this.#req
    if (isPartialBody(headers.get(PARTIAL_BODY))) return 'body_truncated'
    if (body === undefined || body.length === 0) return 'body_missing'
    try {
      this.#text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8')
      return { value: JSON.parse(this.#text) }
    } catch {
      return 'body_invalid'
    }
  }
}

/**
 * Envoy sends `x-envoy-auth-partial-body: false` for a whole body. Sent twice, merged by
 * Envoy into one value (`false,true`), or anything but that one `false`: a caller's own
 * header may sit next to Envoy's, so the body is taken as cut short.
 */
function isPartialBody(values: readonly string[] | undefined): boolean {
  if (values === undefined) return false
  return values.length !== 1 || values[0]!.trim().toLowerCase() !== 'false'
}

/** Only non-empty strings are values a rule compares (a model name, a header value). */
function scalar(v: unknown): string | 'request_value_missing' {
  return typeof v === 'string' && v !== '' ? v : 'request_value_missing'
}

function decodeSegment(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}
