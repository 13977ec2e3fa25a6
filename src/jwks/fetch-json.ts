/** A JWKS or discovery document larger than this is refused (real ones are a few KiB). */
export const MAX_DOCUMENT_BYTES = 1024 * 1024

/** Why a fetch failed, in words safe to log (no response body, no credentials). */
export class FetchFailed extends Error {
  override readonly name = 'FetchFailed'
}

/** Same-origin redirects followed in one fetch; real IdPs use none or one. */
export const MAX_REDIRECTS = 5
const REDIRECTS = new Set([301, 302, 303, 307, 308])

export interface FetchJsonOptions {
  readonly timeoutMs: number
  /** Allow http:// (config `insecure: true`); otherwise only https:// is fetched. */
  readonly insecure?: boolean
  readonly maxBytes?: number
}

/**
 * GETs a JSON document with a deadline covering every hop, headers and body, refusing
 * non-2xx answers, bodies over `maxBytes` (counted while reading, whatever Content-Length
 * says) and anything that is not JSON. Only https is fetched unless `insecure`; a redirect is
 * followed only within the same origin (never to another host, never from https to http),
 * at most MAX_REDIRECTS times.
 */
export async function fetchJson(url: string, options: FetchJsonOptions): Promise<unknown> {
  const { timeoutMs, maxBytes = MAX_DOCUMENT_BYTES } = options
  const signal = AbortSignal.timeout(timeoutMs)
  const res = await fetchSameOrigin(url, options.insecure === true, signal, timeoutMs)
  if (!res.ok) {
    await res.body?.cancel().catch(() => {})
    throw new FetchFailed(`HTTP ${res.status}`)
  }
  const text = await readCapped(res, maxBytes, signal)
  try {
    return JSON.parse(text)
  } catch {
    throw new FetchFailed('response is not JSON')
  }
}

async function fetchSameOrigin(
  url: string,
  insecure: boolean,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Response> {
  let current = new URL(url)
  for (let hops = 0; ; hops++) {
    if (current.protocol !== 'https:' && !(insecure && current.protocol === 'http:'))
      throw new FetchFailed(`refused ${current.protocol}// URL: https only unless insecure: true`)
    let res: Response
    try {
      const init = { signal, headers: { accept: 'application/json' }, redirect: 'manual' } as const
      res = await fetch(current, init)
    } catch (err) {
      throw new FetchFailed(
        signal.aborted ? `timed out after ${timeoutMs}ms` : `unreachable (${causeOf(err)})`,
      )
    }
    if (!REDIRECTS.has(res.status)) return res
    await res.body?.cancel().catch(() => {})
    const next = redirectTarget(current, res.headers.get('location'))
    if (hops === MAX_REDIRECTS) throw new FetchFailed(`more than ${MAX_REDIRECTS} redirects`)
    current = next
  }
}

/** Where a redirect points, if it stays on the same origin (scheme, host and port). */
function redirectTarget(from: URL, location: string | null): URL {
  let next: URL | undefined
  try {
    next = location === null ? undefined : new URL(location, from)
  } catch {
    next = undefined
  }
  if (next === undefined) throw new FetchFailed('redirect without a valid Location')
  if (next.origin !== from.origin)
    throw new FetchFailed(`redirect to another origin refused (${next.origin})`)
  return next
}

async function readCapped(res: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0)
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => {})
    throw new FetchFailed(`response larger than ${maxBytes} bytes`)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength
      if (size > maxBytes) throw new FetchFailed(`response larger than ${maxBytes} bytes`)
      chunks.push(chunk)
    }
  } catch (err) {
    if (err instanceof FetchFailed) throw err
    throw new FetchFailed(
      signal.aborted ? 'timed out reading the response' : 'connection lost while reading',
    )
  }
  return Buffer.concat(chunks).toString('utf8')
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause
  return cause?.code ?? 'network error'
}
