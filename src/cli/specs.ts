import { defineCommand } from './command.js'

/*
 * Every command's options and help, as data: `run.ts` parses and answers --help from here
 * before loading a command's code (a usage error costs no gRPC or crypto start-up), and
 * test/cli/readme.test.ts holds the README's Commands table to the same options.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export const SERVE = defineCommand({
  name: 'serve',
  summary:
    'Serve Check over gRPC and HTTP, with /metrics, /healthz and /readyz on the ops port. Reloads on config change or SIGHUP; drains on SIGTERM/SIGINT.',
  options: {
    config: {
      type: 'string',
      arg: 'FILE',
      help: 'the YAML or JSON config (default: the bundled examples/llm-gateway.yaml)',
    },
    grpc: { type: 'string', arg: 'HOST:PORT', help: 'gRPC Check listener (default: listen.grpc)' },
    http: { type: 'string', arg: 'HOST:PORT', help: 'ops HTTP listener (default: listen.http)' },
    'http-authz': {
      type: 'string',
      arg: 'HOST:PORT',
      help: "HTTP authorization listener (default: listen.httpAuthz); '' turns it off",
    },
    'log-level': {
      type: 'string',
      arg: 'LEVEL',
      help: `${LOG_LEVELS.join('|')} (default: log.level)`,
    },
    workers: {
      type: 'string',
      arg: 'N',
      default: '1',
      help: 'processes sharing the ports; /metrics sums them',
    },
  },
  details: `Port 0 picks a free port; the ports bound are printed on stdout.`,
})

export const VALIDATE = defineCommand({
  name: 'validate',
  summary:
    'Load, validate and compile a config exactly as serve would; exit 1 listing every error with its path.',
  options: {
    config: { type: 'string', arg: 'FILE', required: true, help: 'the YAML or JSON config' },
    claim: {
      type: 'string',
      arg: 'NAME=VALUE',
      multiple: true,
      default: [],
      help: 'a claim of a caller to show the provider key of (by id); as token --claim',
    },
    'schema-only': {
      type: 'boolean',
      help: 'check the config as written, reading no secret, env var, key file or IdP (a deployment config whose secrets exist only in the cluster)',
    },
  },
})

export const CHECK = defineCommand({
  name: 'check',
  summary:
    'Send one real Check to a running server and print the decision. Exit 0 allowed, 1 denied, 2 error.',
  options: {
    address: {
      type: 'string',
      arg: 'HOST:PORT',
      default: '127.0.0.1:9001',
      help: 'the gRPC Check server',
    },
    path: {
      type: 'string',
      arg: 'PATH',
      default: '/',
      help: 'request path, with any query string',
    },
    method: { type: 'string', arg: 'METHOD', default: 'GET', help: 'request method' },
    host: { type: 'string', arg: 'HOST', default: 'localhost:8080', help: 'request :authority' },
    scheme: { type: 'string', arg: 'SCHEME', default: 'http', help: 'request :scheme' },
    token: { type: 'string', arg: 'JWT', help: "sent as 'authorization: Bearer JWT'" },
    body: {
      type: 'string',
      arg: 'TEXT',
      help: 'request body, as Envoy with_request_body sends it',
    },
    header: {
      type: 'string',
      short: 'H',
      multiple: true,
      default: [],
      arg: "'NAME: VALUE'",
      help: 'a request header',
    },
    'context-extension': {
      type: 'string',
      multiple: true,
      default: [],
      arg: 'KEY=VALUE',
      help: 'a context_extensions entry, as an Envoy route would set it',
    },
    json: { type: 'boolean', default: false, help: 'print the CheckResponse as JSON' },
    'show-secrets': {
      type: 'boolean',
      default: false,
      help: 'print injected credentials in full (masked otherwise, --json included)',
    },
    timeout: {
      type: 'string',
      arg: 'MS',
      default: '5000',
      help: 'deadline of the call in milliseconds',
    },
  },
})

export const KEYS = defineCommand({
  name: 'keys',
  summary: 'Development signing keys. Subcommand: generate (see keys generate --help).',
  synopsis: 'generate [options]',
  options: {},
})

export const KEYS_GENERATE = defineCommand({
  name: 'keys generate',
  summary:
    "Write DIR/private.jwk.json (the signing key, for token --key; mode 0600) and DIR/jwks.json (for a provider's jwks.local.file). Never overwrites a key.",
  options: {
    alg: { type: 'string', arg: 'RS256|ES256|EdDSA|HS256', default: 'RS256', help: 'algorithm' },
    kid: { type: 'string', arg: 'KID', help: 'key id (default: <alg>-<date>)' },
    out: {
      type: 'string',
      arg: 'DIR',
      help: 'directory to write into, created if missing (default: ./keys)',
    },
  },
})

export const TOKEN = defineCommand({
  name: 'token',
  summary:
    'Print a signed JWT for development. Needs exactly one of --key (from keys generate) or --secret (HS256 with a raw shared secret).',
  options: {
    key: { type: 'string', arg: 'FILE', help: 'a private JWK, e.g. keys/private.jwk.json' },
    secret: { type: 'string', arg: 'RAW', help: 'an HS256 shared secret, as written' },
    kid: { type: 'string', arg: 'KID', help: "the header's kid (default: the JWK's kid)" },
    iss: { type: 'string', arg: 'ISSUER', help: 'iss claim' },
    sub: { type: 'string', arg: 'SUBJECT', help: 'sub claim' },
    aud: { type: 'string', arg: 'AUDIENCE', multiple: true, default: [], help: 'aud claim' },
    ttl: {
      type: 'string',
      arg: 'DURATION',
      help: 'sets iat and exp, e.g. 1h (without it: no exp, like the seed tokens)',
    },
    claim: {
      type: 'string',
      arg: 'NAME=VALUE',
      multiple: true,
      default: [],
      help: 'a claim; dotted names nest (llms.openai=x), name[]=x appends to a list, true/false/integers are typed',
    },
  },
})

export const SCHEMA = defineCommand({
  name: 'schema',
  summary:
    "Print the config's JSON Schema (draft-07), as published in schema/config.schema.json, for editors and CI validators.",
  options: {},
})

export const RATELIMIT_CONFIG = defineCommand({
  name: 'ratelimit-config',
  summary:
    "Print envoyproxy/ratelimit's config YAML for the config's budgets (or, with --envoy, the typed_per_filter_config of Envoy's rate limit filter), so the two sides never disagree.",
  options: {
    config: { type: 'string', arg: 'FILE', required: true, help: 'the YAML or JSON config' },
    envoy: {
      type: 'boolean',
      default: false,
      help: "print Envoy's side instead: the virtual host's typed_per_filter_config entry",
    },
  },
})
