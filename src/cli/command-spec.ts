/** One command-line option: what parseArgs needs, plus the words `--help` and the README show. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  readonly multiple?: boolean
  readonly default?: string | boolean | readonly string[]
  /** Refused when absent (parseArgs has no such notion). */
  readonly required?: boolean
  /** The value's placeholder in usage lines: FILE, HOST:PORT. */
  readonly arg?: string
  readonly help: string
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>

/**
 * A command's options and help text in one place, so that `--help`, usage errors, parsing and
 * the README's Commands table (checked by test/cli/readme.test.ts) cannot drift apart.
 */
export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  /** As typed after `jwt-ext-authz`: `serve`, `keys generate`. */
  readonly name: string
  readonly summary: string
  /** What follows the name in usage lines when not the options (`generate [options]`). */
  readonly synopsis?: string
  readonly options: O
  /** Extra paragraphs for `--help`. */
  readonly details?: string
}

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean'
  ? S['multiple'] extends true
    ? boolean[]
    : boolean
  : S['multiple'] extends true
    ? string[]
    : string

export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]: O[K] extends { default: unknown } | { required: true }
    ? ValueOf<O[K]>
    : ValueOf<O[K]> | undefined
}
