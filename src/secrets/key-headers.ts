import type { HeaderToSet } from '../decision/decision.js'

/** `{ OpenAI-Project: p }` -> frozen headers with lower-cased names; `over` wins on a name. */
export function keyHeaders(
  base: Readonly<Record<string, string>> | undefined,
  over?: Readonly<Record<string, string>>,
): readonly HeaderToSet[] {
  const byName = new Map<string, string>()
  for (const headers of [base, over])
    for (const [name, value] of Object.entries(headers ?? {})) byName.set(name.toLowerCase(), value)
  return Object.freeze([...byName].map(([name, value]) => Object.freeze({ name, value })))
}
