/**
 * What Envoy takes as a header value: HTAB, SP, visible ASCII and obs-text (0x80-0xff), as
 * its HeaderUtility::headerValueIsValid (quiche's HTTP/2 HeaderValidator, obs-text allowed).
 * CR and LF would smuggle a second header; NUL, the other controls and DEL make Envoy refuse
 * the mutation (ext_authz validate_mutations) or the upstream request.
 */
const NOT_IN_HEADER_VALUE = /[\0-\x08\x0a-\x1f\x7f]/

/** Whether Envoy accepts `text` as a header value (the one rule for every header we set). */
export function isHeaderValue(text: string): boolean {
  return !NOT_IN_HEADER_VALUE.test(text)
}
