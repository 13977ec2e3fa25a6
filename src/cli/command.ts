import { parseArgs, type ParseArgsConfig } from 'node:util'
import { nearestWord } from '../lib/nearest-word.js'
import type { CommandSpec, OptionSpec, OptionSpecs, OptionValues } from './command-spec.js'
import { UsageError } from './usage-error.js'

export type { CommandSpec, OptionSpec, OptionSpecs, OptionValues } from './command-spec.js'

export function defineCommand<const O extends OptionSpecs>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'print this help and exit' }

/**
 * Parses `args` for `spec`; `undefined` means `--help` was asked for and printed. Unknown
 * options, stray arguments and missing required options throw a UsageError naming the command.
 */
export function parseCommand<O extends OptionSpecs>(
  spec: CommandSpec<O>,
  args: readonly string[],
): OptionValues<O> | undefined {
  const options: NonNullable<ParseArgsConfig['options']> = {}
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP })) {
    options[name] = {
      type: o.type,
      ...(o.short === undefined ? {} : { short: o.short }),
      ...(o.multiple === undefined ? {} : { multiple: o.multiple }),
      ...(o.default === undefined ? {} : { default: o.default as string }),
    }
  }
  let values: Record<string, unknown>
  try {
    values = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values
  } catch (err) {
    if (isParseArgsError(err)) throw new UsageError(withSuggestion(err.message, spec), spec)
    throw err
  }
  if (values.help === true) {
    process.stdout.write(commandHelp(spec))
    return undefined
  }
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.required === true && values[name] === undefined)
      throw new UsageError(`--${name} ${o.arg ?? ''} is required`.replace('  ', ' '), spec)
  }
  delete values.help
  return values as OptionValues<O>
}

/** parseArgs names an unknown option in its message: add the option that was likely meant. */
function withSuggestion(message: string, spec: CommandSpec): string {
  const unknown = /^Unknown option '--([^']+)'/.exec(message)?.[1]
  if (unknown === undefined) return message
  const near = nearestWord(unknown, [...Object.keys(spec.options), 'help'])
  return near === undefined
    ? `unknown option --${unknown}`
    : `unknown option --${unknown}; did you mean --${near}?`
}

function isParseArgsError(err: unknown): err is TypeError {
  return err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')
}

/** `usage: jwt-ext-authz check [--address HOST:PORT] --path PATH ...`, wrapped at 100 columns. */
export function commandUsage(spec: CommandSpec): string {
  const words = Object.entries(spec.options).map(([name, o]) => {
    const flag = `--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`
    const repeat = o.multiple === true ? '...' : ''
    return o.required === true ? `${flag}${repeat}` : `[${flag}]${repeat}`
  })
  const head = `usage: jwt-ext-authz ${spec.name}`
  return `${wrap(spec.synopsis === undefined ? words : [spec.synopsis], head)}\n`
}

/** Joins `words` after `head`, breaking lines at 100 columns and indenting under the head. */
function wrap(words: readonly string[], head: string, indent = head.length + 1): string {
  const lines: string[] = []
  let line = head
  for (const word of words) {
    if (line.length + word.length + 1 > 100 && line.trim() !== '') {
      lines.push(line)
      line = ' '.repeat(Math.max(indent - 1, 0))
    }
    line += line === '' ? word : ` ${word}`
  }
  lines.push(line)
  return lines.join('\n')
}

/** What `<command> --help` prints: usage, summary, every option with its default. */
export function commandHelp(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, help: HELP }).map(([name, o]) => {
    const short = o.short === undefined ? '    ' : `-${o.short}, `
    const flag = `${short}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`
    const extra = [
      o.required === true ? 'required' : undefined,
      o.multiple === true ? 'repeatable' : undefined,
      typeof o.default === 'string' ? `default ${o.default === '' ? "''" : o.default}` : undefined,
    ].filter((x) => x !== undefined)
    return [flag, `${o.help}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2
  const body = rows
    .map(([flag, help]) => wrap(help.split(' '), `  ${flag.padEnd(width - 1)}`, width + 2))
    .join('\n')
  const summary = wrap(spec.summary.split(' '), '', 0).trimStart()
  const details =
    spec.details === undefined ? '' : `\n${wrap(spec.details.split(' '), '', 0).trimStart()}\n`
  return `${commandUsage(spec)}\n${summary}\n\noptions:\n${body}\n${details}`
}
