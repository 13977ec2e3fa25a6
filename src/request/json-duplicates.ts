/** Characters that open, close or quote something a value skip must step over. */
const STRUCTURAL = /[{}[\]"]/g
/** Characters JSON may also write as a short escape (`\"`, `\\`, `\/`, `\n`...). */
const ESCAPABLE = /["\\/\x00-\x1f]/

/**
 * Whether an object on `path` of a JSON text repeats the key the path takes next: in
 * `{"model":"gpt-4","model":"gpt-3.5-turbo"}` JSON.parse keeps the last `model` while other
 * parsers (and upstreams) keep the first, so authorizing one value could serve the other.
 * Keys are compared decoded (`"mod\u0065l"` is `model`). Only the objects on the path are
 * read key by key; every other value is stepped over with native string searches.
 *
 * `text` must be valid JSON (JSON.parse accepted it); on anything else the answer is false.
 */
export function repeatsKeyOnPath(text: string, path: readonly string[]): boolean {
  if (!text.includes('\\u') && path.every((key) => appearsAtMostOnce(text, key))) return false
  let i = skipWhitespace(text, 0)
  for (const want of path) {
    if (text[i] !== '{') return false
    let found = -1
    i = skipWhitespace(text, i + 1)
    while (text[i] === '"') {
      const keyEnd = stringEnd(text, i)
      const key = decodeKey(text, i, keyEnd)
      // Past the key: optional whitespace, ':', optional whitespace, then the value.
      const valueStart = skipWhitespace(text, skipWhitespace(text, keyEnd) + 1)
      if (key === want) {
        if (found !== -1) return true
        found = valueStart
      }
      i = skipWhitespace(text, valueEnd(text, valueStart))
      if (text[i] === ',') i = skipWhitespace(text, i + 1)
    }
    if (found === -1) return false
    i = found
  }
  return false
}

/**
 * Without any `\u` escape in the text, a key free of `"`, `\\`, `/` and control characters
 * has one spelling only (RFC 8259 §7), so a text holding `"key"` once cannot repeat it:
 * the common case is decided by two native searches.
 */
function appearsAtMostOnce(text: string, key: string): boolean {
  if (ESCAPABLE.test(key)) return false
  const quoted = `"${key}"`
  const first = text.indexOf(quoted)
  return first === -1 || text.indexOf(quoted, first + 1) === -1
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++
  return i
}

/** JSON's four whitespace characters (RFC 8259 §2). */
function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09
}

/** Index just past the string whose opening quote is at `start`. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1)
  while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1)
  return end === -1 ? text.length : end + 1
}

/** An odd run of backslashes before a quote escapes it. */
function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0
  for (let j = quote - 1; text[j] === '\\'; j--) backslashes++
  return backslashes % 2 === 1
}

function decodeKey(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end - 1)
  // Escapes are rare in keys; JSON.parse decodes them exactly as it did for the whole body.
  return raw.includes('\\') ? (JSON.parse(text.slice(start, end)) as string) : raw
}

function isDelimiter(code: number): boolean {
  return code === 0x2c || code === 0x7d || code === 0x5d || isWhitespace(code)
}

/** Index just past the value starting at `start`. */
function valueEnd(text: string, start: number): number {
  const c = text[start]
  if (c === '"') return stringEnd(text, start)
  if (c !== '{' && c !== '[') {
    // A number, true, false or null: up to the next delimiter.
    let i = start
    while (i < text.length && !isDelimiter(text.charCodeAt(i))) i++
    return i
  }
  let depth = 0
  STRUCTURAL.lastIndex = start
  for (let m = STRUCTURAL.exec(text); m !== null; m = STRUCTURAL.exec(text)) {
    const ch = m[0]
    if (ch === '"') STRUCTURAL.lastIndex = stringEnd(text, m.index)
    else if (ch === '{' || ch === '[') depth++
    else if (--depth === 0) return m.index + 1
  }
  return text.length
}
