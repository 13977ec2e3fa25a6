import { credentials, type ServiceError } from '@grpc/grpc-js'
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { loadAuthorizationClient } from '../../src/proto/load.js'
import type { CheckResponse } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import type { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

export const GATEWAY_ID =
  'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'

/** A temp dir with scripts/gen-test-certs.sh's output; `remove` deletes it (keys included). */
export interface TestCerts {
  readonly dir: string
  /** The PEM bytes of `name` (`ca.crt`, `client.key`, …). */
  pem(name: string): Buffer
  remove(): void
}

export function generateCerts(): TestCerts {
  const dir = tempDir('jwt-ext-authz-tls')
  execFileSync('bash', ['scripts/gen-test-certs.sh', dir], { stdio: ['ignore', 'ignore', 'pipe'] })
  return {
    dir,
    pem: (name) => readFileSync(join(dir, name)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** examples/llm-gateway.yaml with `listen.tls` (and more listen keys) set, written to `dir`. */
export function writeConfig(dir: string, listen: Record<string, unknown>): string {
  const config = parse(readFileSync('examples/llm-gateway.yaml', 'utf8'))
  config.listen = { ...config.listen, ...listen }
  const file = join(dir, 'config.yaml')
  writeFileSync(file, stringify(config))
  return file
}

/** Who a test client presents itself as: a key pair of the generated set, or none. */
export interface ClientIdentity {
  /** The CA the client trusts for our server certificate. */
  readonly trust: string
  /** `client`, `other-client`, … (`.crt` and `.key`), or undefined for no certificate. */
  readonly cert?: string
}

/**
 * One Check over a new gRPC-over-TLS connection, as Envoy's ext_authz would send it. The
 * server certificate is checked for `localhost` (a SAN of the generated server certificate).
 */
export async function checkOverTls(
  certs: TestCerts,
  address: string,
  who: ClientIdentity,
  path: string,
  token: string,
): Promise<CheckResponse> {
  const Client = loadAuthorizationClient()
  const creds = credentials.createSsl(
    certs.pem(who.trust),
    who.cert === undefined ? null : certs.pem(`${who.cert}.key`),
    who.cert === undefined ? null : certs.pem(`${who.cert}.crt`),
  )
  const client = new Client(address, creds, {
    'grpc.ssl_target_name_override': 'localhost',
    'grpc.use_local_subchannel_pool': 1,
  })
  const req = checkRequest({ method: 'POST', path, host: 'gw.example.com', headers: bearer(token) })
  try {
    return await new Promise((resolve, reject) =>
      client.Check(
        req,
        { deadline: Date.now() + 20_000 },
        (err: ServiceError | null, res: CheckResponse) => (err ? reject(err) : resolve(res)),
      ),
    )
  } finally {
    client.close()
  }
}

/** One forward-auth request over a new HTTPS connection; resolves status and headers. */
export function forwardAuthOverTls(
  certs: TestCerts,
  port: number,
  who: ClientIdentity,
  uri: string,
  token: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/forward-auth',
        servername: 'localhost',
        ca: certs.pem(who.trust),
        cert: who.cert === undefined ? undefined : certs.pem(`${who.cert}.crt`),
        key: who.cert === undefined ? undefined : certs.pem(`${who.cert}.key`),
        headers: { 'x-forwarded-uri': uri, 'x-forwarded-host': 'gw.example.com', ...bearer(token) },
        agent: false,
      },
      (res) => {
        res.resume()
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
      },
    )
    req.once('error', reject)
    req.end()
  })
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** Checks the server has answered so far: the sum of `ext_authz_checks_total`. */
export async function checksAnswered(serve: ServeProcess): Promise<number> {
  const text = await (await fetch(`${serve.http}/metrics`)).text()
  let sum = 0
  for (const m of text.matchAll(/^ext_authz_checks_total\{[^}]*\} (\d+)$/gm)) sum += Number(m[1])
  return sum
}

/** Resolves with the first log line matching `pattern` written after `from` characters. */
export function logLine(serve: ServeProcess, pattern: RegExp, from = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const look = (): boolean => {
      const line = serve
        .stderr()
        .slice(from)
        .split('\n')
        .find((l) => pattern.test(l))
      if (line === undefined) return false
      serve.proc.stderr.off('data', look)
      serve.proc.off('exit', gone)
      resolve(line)
      return true
    }
    const gone = (): void => reject(new Error(`exited before logging ${pattern}`))
    if (look()) return
    serve.proc.stderr.on('data', look)
    serve.proc.once('exit', gone)
  })
}
