/**
 * A request's headers by lower-case name, every value of a repeated name in order. A `Map`
 * of arrays is one (the HTTP adapter, Envoy's `header_map`), and so is {@link EnvoyHeaders}.
 */
export interface RequestHeaders {
  get(name: string): readonly string[] | undefined
  has(name: string): boolean
  keys(): Iterable<string>
}

const UPPER_CASE = /[A-Z]/

/**
 * Envoy's `headers` map read where protobufjs decoded it. A Check reads three or four of its
 * fifteen-odd headers; copying every one into a Map of arrays would be much of the garbage a
 * cached-token Check makes. Envoy lower-cases the names
 * and comma-joins a repeated header, so each name holds one value.
 */
class EnvoyHeaders implements RequestHeaders {
  readonly #map: Readonly<Record<string, unknown>>

  constructor(map: Readonly<Record<string, unknown>>) {
    this.#map = map
  }

  get(name: string): readonly string[] | undefined {
    return Object.hasOwn(this.#map, name) ? [String(this.#map[name])] : undefined
  }

  has(name: string): boolean {
    return Object.hasOwn(this.#map, name)
  }

  keys(): Iterable<string> {
    return Object.keys(this.#map)
  }
}

/**
 * Envoy's `headers` as RequestHeaders, and their size in bytes. Names that are not lower-case
 * (a caller other than Envoy) are copied into a Map under their lower-cased names instead.
 */
export function envoyHeaders(map: Readonly<Record<string, unknown>>): {
  headers: RequestHeaders
  bytes: number
} {
  let bytes = 0
  let lowerCase = true
  for (const key in map) {
    if (!Object.hasOwn(map, key)) continue
    bytes += key.length + String(map[key]).length
    if (lowerCase && UPPER_CASE.test(key)) lowerCase = false
  }
  if (lowerCase) return { headers: new EnvoyHeaders(map), bytes }
  const copy = new Map<string, string[]>()
  for (const key of Object.keys(map)) addHeader(copy, key, String(map[key]))
  return { headers: copy, bytes }
}

/** Adds one header value under its lower-cased name, keeping earlier values of the same name. */
export function addHeader(headers: Map<string, string[]>, key: string, value: string): void {
  const name = key.toLowerCase()
  const existing = headers.get(name)
  if (existing === undefined) headers.set(name, [value])
  else existing.push(value)
}
