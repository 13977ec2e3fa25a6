/**
 * The known word (a config key, a command, an option) closest to a mistyped one
 * (`nestedClaimDelimeter` -> `nestedClaimDelimiter`, `allowanonymous` -> `allowAnonymous`,
 * `servce` -> `serve`), or undefined when none is close enough to be a typo:
 * at most one edit per three characters, case ignored, a swap of neighbours is one edit.
 */
export function nearestWord(typed: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(typed.length / 3))
  let best: string | undefined
  let bestDistance = limit + 1
  for (const candidate of known) {
    const d = editDistance(typed.toLowerCase(), candidate.toLowerCase(), bestDistance)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** Optimal string alignment distance; stops early once every path exceeds `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1)
      row.push(d)
    }
    if (Math.min(...row) >= cap) return cap
    before = previous
    previous = row
  }
  return previous[b.length]!
}
