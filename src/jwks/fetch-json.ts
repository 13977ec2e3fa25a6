/** A JWKS or discovery document larger than this is refused (real ones are a few KiB). */
export const MAX_DOCUMENT_BYTES = 1024 * 1024

/** Why a fetch failed, in words safe to log (no response body, no credentials). */
export class FetchFailed extends Error {
  override readonly name = 'FetchFailed'
}

/**
 * GETs a JSON document with a deadline covering headers and body, refusing non-2xx
 * answers, bodies over `maxBytes` (counted while reading, whatever Content-Length says) and
 * anything that is not JSON. Only http and https URLs reach here (the config schema).
 */
export async function fetchJson(
  url: string,
  timeoutMs: number,
  maxBytes = MAX_DOCUMENT_BYTES,
): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs)
  let res: Response
  try {
    res = await fetch(url, { signal, headers: { accept: 'application/json' }, redirect: 'follow' })
  } catch (err) {
    throw new FetchFailed(
      signal.aborted ? `timed out after ${timeoutMs}ms` : `unreachable (${causeOf(err)})`,
    )
  }
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
