import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { nearestWord } from '../lib/nearest-word.js'
import { packageRoot } from '../lib/package-root.js'
import {
  commandUsage,
  parseCommand,
  type CommandSpec,
  type OptionSpecs,
  type OptionValues,
} from './command.js'
import { serveOptions } from './serve-args.js'
import {
  CHECK,
  KEYS,
  KEYS_GENERATE,
  RATELIMIT_CONFIG,
  SCHEMA,
  SERVE,
  TOKEN,
  VALIDATE,
} from './specs.js'
import { CommandFailed, UsageError } from './usage-error.js'

interface Command {
  readonly spec: CommandSpec
  /** Parses `args` (or prints --help) and runs; resolves to the exit code. */
  run(args: readonly string[]): Promise<number>
}

/**
 * A command whose code is imported only once its arguments parsed: `--help` and usage errors
 * answer without loading gRPC, jose or pino.
 */
function command<O extends OptionSpecs>(
  spec: CommandSpec<O>,
  load: () => Promise<(values: OptionValues<O>) => number | Promise<number>>,
): Command {
  return {
    spec,
    run: async (args) => {
      const values = parseCommand(spec, args)
      return values === undefined ? 0 : (await load())(values)
    },
  }
}

const COMMANDS: ReadonlyMap<string, Command> = new Map([
  ['serve', command(SERVE, async () => runServe)],
  ['validate', command(VALIDATE, async () => (await import('./validate.js')).runValidate)],
  ['check', command(CHECK, async () => (await import('./check.js')).runCheckCommand)],
  ['keys', { spec: KEYS, run: runKeys }],
  ['token', command(TOKEN, async () => (await import('./token.js')).runToken)],
  ['schema', command(SCHEMA, async () => (await import('./schema.js')).runSchema)],
  [
    'ratelimit-config',
    command(
      RATELIMIT_CONFIG,
      async () => (await import('./ratelimit-config.js')).runRatelimitConfig,
    ),
  ],
])

const KEYS_GENERATE_COMMAND = command(
  KEYS_GENERATE,
  async () => (await import('./keys.js')).runKeysGenerate,
)

async function runServe(values: OptionValues<typeof SERVE.options>): Promise<number> {
  const options = serveOptions(values)
  const { serve } = await import('./serve.js')
  try {
    return await serve(options)
  } finally {
    // A worker that could not start would otherwise live on, held by the IPC channel.
    if (cluster.isWorker && process.connected) process.disconnect()
  }
}

/** `keys` has subcommands (only `generate` today); `keys --help` lists them. */
async function runKeys(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === 'generate') return KEYS_GENERATE_COMMAND.run(rest)
  if (sub === undefined) throw new UsageError('a subcommand is needed: generate', KEYS)
  if (sub.startsWith('-')) return parseCommand(KEYS, [sub]) === undefined ? 0 : 2
  const hint = nearestWord(sub, ['generate']) === undefined ? '' : '; did you mean generate?'
  throw new UsageError(`unknown keys subcommand: ${sub}${hint}`, KEYS)
}

function usage(): string {
  const rows = [...COMMANDS].map(([name, c]) => `  ${name.padEnd(10)}${c.spec.summary}`)
  return `usage: jwt-ext-authz <command> [options]

${rows.join('\n')}
  version   Print the version (also --version).

Run 'jwt-ext-authz <command> --help' for a command's options.
`
}

/** The version in package.json, read at run time so a build never carries a stale one. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string
  }
  return pkg.version
}

/**
 * Dispatches `argv` (without node and script) to a command; resolves to the exit code.
 * Mistakes on the command line and failures outside the code (a port in use) print one line
 * and exit 2 or the failure's code; only a defect in the code reaches main.ts with its stack.
 */
export async function run(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  switch (name) {
    case undefined:
      process.stderr.write(usage())
      return 2
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage())
      return 0
    case 'version':
    case '--version':
      process.stdout.write(`jwt-ext-authz ${packageVersion()}\n`)
      return 0
  }
  const found = COMMANDS.get(name)
  if (found === undefined) {
    const near = nearestWord(name, [...COMMANDS.keys(), 'version', 'help'])
    const hint = near === undefined ? '' : `; did you mean ${near}?`
    process.stderr.write(`jwt-ext-authz: unknown command ${name}${hint}\n\n${usage()}`)
    return 2
  }
  try {
    return await found.run(rest)
  } catch (err) {
    return reportFailure(err, name, found.spec)
  }
}

function reportFailure(err: unknown, name: string, spec: CommandSpec): number {
  if (err instanceof UsageError) {
    const about = err.command ?? spec
    process.stderr.write(
      `jwt-ext-authz ${about.name}: ${err.message}\n${commandUsage(about)}Run 'jwt-ext-authz ${about.name} --help' for the options.\n`,
    )
    return 2
  }
  if (err instanceof CommandFailed) {
    process.stderr.write(`jwt-ext-authz ${name}: ${err.message}\n`)
    return err.exitCode
  }
  throw err
}
