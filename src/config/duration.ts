const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const

/** Parses `500ms`, `30s`, `10m`, `24h` into milliseconds; the schema has checked the form. */
export function parseDuration(text: string): number {
  const match = /^([0-9]+)(ms|s|m|h)$/.exec(text)
  if (match === null) throw new TypeError(`not a duration: ${text}`)
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
}
