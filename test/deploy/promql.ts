/** One metric a PromQL expression reads, with the label names its matchers use. */
export interface MetricSelector {
  readonly metric: string
  readonly labels: readonly string[]
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan'])
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g

/**
 * The metrics an expression reads: enough PromQL for our rules and dashboard (no subqueries
 * or `@`). Ranges and grouping clauses go first, then every name not called as a function
 * and not a keyword is a metric; a `{...}` after it holds its matchers.
 */
export function metricSelectors(expr: string): MetricSelector[] {
  const cleaned = expr.replace(/\[[^\]]*\]/g, '').replace(GROUPING, '')
  const name = /(?<![\w.$"])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?/g
  const found: MetricSelector[] = []
  for (const m of cleaned.matchAll(name)) {
    if (m[3] !== undefined || KEYWORDS.has(m[1]!.toLowerCase())) continue
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!)
    found.push({ metric: m[1]!, labels })
  }
  return found
}

/** What a /metrics page exposes: every series name (histogram parts included) and its labels. */
export function exposedMetrics(text: string): Map<string, Set<string>> {
  const exposed = new Map<string, Set<string>>()
  const add = (name: string) => exposed.get(name) ?? exposed.set(name, new Set()).get(name)!
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type) {
      add(type[1]!)
      const parts = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] }
      for (const suffix of parts[type[2] as keyof typeof parts] ?? []) add(type[1]! + suffix)
      continue
    }
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line)
    if (!sample) continue
    const labels = add(sample[1]!)
    for (const l of (sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) labels.add(l[1]!)
  }
  return exposed
}

/** Labels an expression aggregates or matches on (`by (a, b)`, `on (c)`). */
export function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(GROUPING)].flatMap((m) =>
    m[0]
      .slice(m[0].indexOf('(') + 1, -1)
      .split(',')
      .map((l) => l.trim())
      .filter((l) => l !== ''),
  )
}
