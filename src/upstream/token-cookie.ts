import type { Allow } from '../decision/decision.js'
import type { RequestHeaders } from '../request/headers.js'

const COOKIE = 'cookie'

/**
 * The allow with the token cookie cut out of the upstream `Cookie` header: set to the
 * remaining cookies, or removed when none remain. Envoy applies headers to set before
 * headers to remove, and we set with OVERWRITE_IF_EXISTS_OR_ADD, so exactly one of the two
 * is sent. The allow is returned as it is when the request carries no token cookie (the
 * token came from a header), so the shared allow of a cached token stays shared.
 */
export function cutTokenCookies(allow: Allow, headers: RequestHeaders): Allow {
  if (allow.tokenCookies.length === 0) return allow
  const values = headers.get(COOKIE)
  if (values === undefined) return allow
  const kept: string[] = []
  let cut = false
  for (const cookie of cookiesIn(values)) {
    if (allow.tokenCookies.includes(nameOf(cookie))) cut = true
    else kept.push(cookie)
  }
  if (!cut) return allow
  return kept.length > 0
    ? { ...allow, set: [...allow.set, { name: COOKIE, value: kept.join('; ') }], shared: false }
    : { ...allow, remove: [...allow.remove, COOKIE], shared: false }
}

/** Whether the request's Cookie header carries one of these cookies (a token was read there). */
export function carriesTokenCookie(headers: RequestHeaders, names: readonly string[]): boolean {
  const values = names.length === 0 ? undefined : headers.get(COOKIE)
  return values !== undefined && cookiesIn(values).some((c) => names.includes(nameOf(c)))
}

/** Every `name=value` of the Cookie header(s), trimmed, empty parts dropped. */
function cookiesIn(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(';').map((part) => part.trim())).filter((c) => c !== '')
}

function nameOf(cookie: string): string {
  const eq = cookie.indexOf('=')
  return (eq === -1 ? cookie : cookie.slice(0, eq)).trim()
}
