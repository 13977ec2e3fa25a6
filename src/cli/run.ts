import { parseArgs } from 'node:util'
import { runCheck } from './check.js'
import { runKeys } from './keys.js'
import { runToken } from './token.js'
import { serve } from './serve.js'
import { validate } from './validate.js'
import { UsageError } from './usage-error.js'

const USAGE = `usage: jwt-ext-authz <command> [options]

  serve     [--config FILE] [--grpc HOST:PORT] [--http HOST:PORT] [--http-authz HOST:PORT]
            [--log-level LEVEL] [--workers N]
            Serve Check over gRPC and HTTP (default config: the bundled examples/llm-gateway.yaml);
            N processes share the ports, /metrics sums them. --http-authz '' turns HTTP off.
  validate  --config FILE
            Check a config; exit 1 listing every error with its path.
  check     [--address HOST:PORT] --path PATH [--method M] [--host H] [--token JWT] [--body TEXT]
            [--header 'name: value']... [--context-extension key=value]... [--json] [--show-secrets]
            Send one real Check to a running server and print the decision.
            Exit 0 allowed, 1 denied, 2 error.
  keys      generate --alg RS256|ES256|EdDSA|HS256 [--kid K] [--out DIR]
            Write DIR/private.jwk.json (signing key) and DIR/jwks.json (for jwks.local.file).
  token     --key private.jwk.json | --secret RAW  [--iss I] [--sub S] [--aud A]... [--ttl 1h]
            [--claim name=value]... [--kid K]
            Print a signed JWT. Dotted claim names nest (llms.openai=x); name[]=x appends to a
            list. No --ttl: no exp (like the seed tokens).
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
      case 'keys':
        return await runKeys(rest)
      case 'token':
        return await runToken(rest)
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
    if (
      err instanceof TypeError &&
      'code' in err &&
      String(err.code).startsWith('ERR_PARSE_ARGS')
    ) {
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
      'http-authz': { type: 'string' },
      'log-level': { type: 'string' },
      workers: { type: 'string', default: '1' },
    },
  })
  const workers = Number(values.workers)
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new UsageError('--workers takes a whole number from 1 to 64')
  return {
    config: values.config,
    grpc: values.grpc,
    http: values.http,
    httpAuthz: values['http-authz'],
    logLevel: values['log-level'],
    workers,
  }
}

function requireConfig(args: readonly string[]): string {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string' } } })
  if (values.config === undefined) throw new UsageError('--config FILE is required')
  return values.config
}
