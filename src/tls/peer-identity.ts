/** The SANs of a client certificate that `listen.tls.allowedSans` can name. */
export interface SubjectAltNames {
  readonly uris: readonly string[]
  readonly dns: readonly string[]
}

/** A value Node had to escape is written as a JSON string: `URI:"a\u002c b"`. */
const JSON_STRING = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/

/**
 * Reads Node's `X509Certificate#subjectAltName` text (`DNS:a, URI:spiffe://b, IP Address:…`).
 * Since the fix for CVE-2021-44532 Node JSON-quotes any value holding a separator, so a
 * URI SAN whose text is `x, URI:spiffe://gateway` stays one value here and never matches the
 * gateway's ID. Anything that does not parse yields undefined: the caller refuses it.
 */
export function parseSubjectAltNames(text: string): SubjectAltNames | undefined {
  const uris: string[] = []
  const dns: string[] = []
  let rest = text
  while (rest.length > 0) {
    const colon = rest.indexOf(':')
    if (colon <= 0) return undefined
    const type = rest.slice(0, colon)
    rest = rest.slice(colon + 1)
    let value: string
    if (rest.startsWith('"')) {
      const quoted = JSON_STRING.exec(rest)
      if (quoted === null) return undefined
      value = JSON.parse(quoted[0]) as string
      rest = rest.slice(quoted[0].length)
    } else {
      const end = rest.indexOf(', ')
      value = end === -1 ? rest : rest.slice(0, end)
      rest = end === -1 ? '' : rest.slice(end)
    }
    if (rest.length > 0) {
      if (!rest.startsWith(', ') || rest.length === 2) return undefined
      rest = rest.slice(2)
    }
    if (type === 'URI') uris.push(value)
    else if (type === 'DNS') dns.push(value.toLowerCase())
  }
  return { uris, dns }
}

/** Whether a client certificate's SAN text names an allowed identity. */
export type SanPolicy = (subjectAltName: string | undefined) => boolean

/**
 * `allowedSans` entries with `://` are URI SANs (SPIFFE IDs), compared exactly; the others
 * are DNS SANs, compared case-insensitively and literally (`*.example.com` only matches a
 * certificate that carries that very wildcard). No list: any certificate of the CA passes.
 */
export function compileSanPolicy(allowed: readonly string[] | undefined): SanPolicy {
  if (allowed === undefined) return () => true
  const uris = new Set(allowed.filter((san) => san.includes('://')))
  const dns = new Set(allowed.filter((san) => !san.includes('://')).map((s) => s.toLowerCase()))
  return (subjectAltName) => {
    const sans = subjectAltName === undefined ? undefined : parseSubjectAltNames(subjectAltName)
    if (sans === undefined) return false
    return sans.uris.some((uri) => uris.has(uri)) || sans.dns.some((name) => dns.has(name))
  }
}
