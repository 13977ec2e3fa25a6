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
  | 'body_missing'
  | 'body_truncated'
  | 'body_invalid'
  | 'body_ambiguous'
  | 'header_ambiguous'
  | 'request_value_missing'

/**
 * A value read from the request, or why none could be: tagged, so a header whose value is
 * literally `body_missing` is that value and never that reason.
 */
export type RequestValue =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: RequestValueProblem }

/** The refusals are shared constants: only a value read allocates. */
const REFUSED: { readonly [P in RequestValueProblem]: RequestValue } = Object.freeze({
  body_missing: Object.freeze({ ok: false, reason: 'body_missing' }),
  body_truncated: Object.freeze({ ok: false, reason: 'body_truncated' }),
  body_invalid: Object.freeze({ ok: false, reason: 'body_invalid' }),
  body_ambiguous: Object.freeze({ ok: false, reason: 'body_ambiguous' }),
  header_ambiguous: Object.freeze({ ok: false, reason: 'header_ambiguous' }),
  request_value_missing: Object.freeze({ ok: false, reason: 'request_value_missing' }),
})

/** What a rule reads when there are no request values at all. */
export const VALUE_MISSING: RequestValue = REFUSED.request_value_missing

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
  #json: { readonly value: unknown } | RequestValue | typeof UNREAD = UNREAD
  #text = ''
  /** Body paths already checked for repeated keys (a template read by rbac and a header). */
  #unambiguous: Set<readonly string[]> | undefined

  constructor(req: AuthRequest, pathRegex: RegExp | undefined) {
    this.#req = req
    this.#captures = pathRegex === undefined ? null : pathRegex.exec(req.pathname)
  }

  read(source: RequestValueSource): RequestValue {
    switch (source.kind) {
      case 'header':
        return this.#fromHeader(source.name)
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

  /**
   * A header sent more than once is ambiguous: the upstream may read another line than the
   * one judged, as with a repeated body key. (Envoy's `headers` map has already joined the
   * lines with commas, a value no rule allows; `header_map` and forward-auth keep them apart.)
   */
  #fromHeader(name: string): RequestValue {
    const values = this.#req.headers.get(name)
    if (values !== undefined && values.length > 1) return REFUSED.header_ambiguous
    return scalar(values?.[0])
  }

  #fromBody(path: readonly string[]): RequestValue {
    if (this.#json === UNREAD) this.#json = this.#parseBody()
    if ('ok' in this.#json) return this.#json
    if (!this.#unambiguous?.has(path)) {
      if (repeatsKeyOnPath(this.#text, path)) return REFUSED.body_ambiguous
      ;(this.#unambiguous ??= new Set()).add(path)
    }
    let node = this.#json.value
    for (const key of path) {
      if (
        typeof node !== 'object' ||
        node === null ||
        Array.isArray(node) ||
        !Object.hasOwn(node, key)
      ) {
        return VALUE_MISSING
      }
      node = (node as Record<string, unknown>)[key]
    }
    return scalar(node)
  }

  /** `{ value }` for a parsed body, or why there is none (kept, so the body is read once). */
  #parseBody(): { readonly value: unknown } | RequestValue {
    const { body, headers } = this.#req
    if (isPartialBody(headers.get(PARTIAL_BODY))) return REFUSED.body_truncated
    if (body === undefined || body.length === 0) return REFUSED.body_missing
    try {
      this.#text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8')
      return { value: JSON.parse(this.#text) }
    } catch {
      return REFUSED.body_invalid
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
function scalar(v: unknown): RequestValue {
  return typeof v === 'string' && v !== '' ? { ok: true, value: v } : VALUE_MISSING
}

function decodeSegment(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}
