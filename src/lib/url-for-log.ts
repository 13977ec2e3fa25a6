/**
 * A URL as it may appear in a log line: scheme, host, port and path only. Userinfo
 * (`https://user:pass@idp`) and the query (`?api_key=...`) can hold credentials; the
 * fragment is never sent anyway.
 */
export function urlForLog(raw: string): string {
  try {
    const url = new URL(raw)
    return `${url.protocol}//${url.host}${url.pathname}`
  } catch {
    return '(not a URL)'
  }
}
