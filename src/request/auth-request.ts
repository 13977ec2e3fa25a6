/**
 * The part of an Envoy CheckRequest that authorization reads, in one plain shape that both
 * adapters (gRPC Check today, HTTP later) produce. Header names are lower-case; a header sent
 * several times keeps every value, in order (Envoy's `header_map` keeps them; its `headers`
 * map has already comma-joined them into one).
 */
export interface AuthRequest {
  readonly method: string
  readonly scheme: string
  readonly host: string
  /** Path as Envoy sends it, query string included. */
  readonly path: string
  /** Path without query string or fragment. */
  readonly pathname: string
  /** Raw query string without the leading `?` ('' when none). */
  readonly query: string
  readonly headers: ReadonlyMap<string, readonly string[]>
  readonly contextExtensions: ReadonlyMap<string, string>
  /** Header names and values, in bytes (UTF-16 units for `headers`, bytes for `header_map`). */
  readonly headerBytes: number
  /** Size of the body Envoy forwarded (`body` or `raw_body`), 0 when none. */
  readonly bodyBytes: number
  /** The body Envoy forwarded (`with_request_body`): text, or bytes with `pack_as_bytes`. */
  readonly body: string | Uint8Array | undefined
}
