import { parseArgs } from 'node:util'
import { runCheck } from './check.js'
import { serve } from './serve.js'
import { validate } from './validate.js'

const USAGE = `usage: jwt-ext-authz <command> [options]

  serve     [--config FILE] [--grpc HOST:PORT] [--http HOST:PORT] [--log-level LEVEL]
            Serve Check (default config: the bundled examples/llm-gateway.yaml).
  validate  --config FILE
            Check a config; exit 1 listing every error with its path.
  check     [--address HOST:PORT] --path PATH [--method M] [--host H] [--token JWT]
            [--header 'name: value']... [--context-extension key=value]... [--json] [--show-secrets]
            Send one real Check to a running server and print the decision.
            Exit 0 allowed, 1 denied, 2 error.
`

/** Dispatches `argv` (without node and script) to a command; resolves to the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'serve':
        return await serve(serveOptions(rest))
      case 'validate':
        return validate(requireConfig(rest))
      case 'check':
        return await runCheck(rest)
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE)
        return command === undefined ? 2 : 0
      default:
        process.stderr.write(`unknown command: ${command}\n${USAGE}`)
        return 2
    }
  } catch (err) {
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${err.message}\n${USAGE}`)
      return 2
    }
    throw err
  }
}

function serveOptions(args: readonly string[]) {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string' },
      grpc: { type: 'string' },
      http: { type: 'string' },
      'log-level': { type: 'string' },
    },
  })
  return { config: values.config, grpc: values.grpc, http: values.http, logLevel: values['log-level'] }
}

function requireConfig(args: readonly string[]): string {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string' } } })
  if (values.config === undefined) throw Object.assign(new TypeError('--config FILE is required'), { code: 'ERR_PARSE_ARGS_MISSING' })
  return values.config
}
