import type { Metric, Registry } from 'prom-client'

interface Series {
  /** Observations per bucket (not cumulative); the last slot is past every bound (+Inf). */
  readonly counts: number[]
  sum: number
  count: number
}

/**
 * A Prometheus histogram with one label, counted in plain arrays and exposed through the
 * registry like prom-client's own. prom-client's Histogram hashes and validates its label set
 * on every observe, a cost every Check would pay (BENCHMARKS.md, "Figures behind the code").
 * The exposition (`_bucket{le,label}`, `_sum`, `_count`) and
 * the cluster aggregation (`sum`) are prom-client's.
 *
 * prom-client's public `Metric` type is the union of its own four classes, and none of them
 * takes counts from outside, so this registers an object the registry reads through what its
 * code (not its types) uses: name, help, type, aggregator, get() and reset(). That is why
 * prom-client is pinned to one version; test/ops/metrics.test.ts fails on another, and
 * compares this exposition with prom-client's Histogram byte for byte.
 */
export class LabelledHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly name: string
  readonly help: string
  readonly #labelName: string
  readonly #bounds: readonly number[]
  readonly #series = new Map<string, Series>()

  constructor(
    registry: Registry,
    o: { name: string; help: string; labelName: string; buckets: readonly number[] },
  ) {
    this.name = o.name
    this.help = o.help
    this.#labelName = o.labelName
    this.#bounds = o.buckets
    registry.registerMetric(this as unknown as Metric)
  }

  observe(label: string, seconds: number): void {
    let series = this.#series.get(label)
    if (series === undefined) {
      series = {
        counts: Array.from({ length: this.#bounds.length + 1 }, () => 0),
        sum: 0,
        count: 0,
      }
      this.#series.set(label, series)
    }
    let i = 0
    while (i < this.#bounds.length && seconds > this.#bounds[i]!) i++
    series.counts[i]!++
    series.sum += seconds
    series.count++
  }

  /** What prom-client's Histogram#reset does (`Registry#resetMetrics`): every series gone. */
  reset(): void {
    this.#series.clear()
  }

  /** What prom-client's Histogram#get answers: cumulative buckets, then sum and count. */
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] =
      []
    for (const [label, s] of this.#series) {
      let cumulative = 0
      this.#bounds.forEach((le, i) => {
        cumulative += s.counts[i]!
        values.push(this.#value('_bucket', { le, [this.#labelName]: label }, cumulative))
      })
      values.push(this.#value('_bucket', { le: '+Inf', [this.#labelName]: label }, s.count))
      values.push(this.#value('_sum', { [this.#labelName]: label }, s.sum))
      values.push(this.#value('_count', { [this.#labelName]: label }, s.count))
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    }
  }

  #value(suffix: string, labels: Record<string, string | number>, value: number) {
    return { labels, value, metricName: `${this.name}${suffix}` }
  }
}
