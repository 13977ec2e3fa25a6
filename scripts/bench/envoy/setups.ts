// The set-ups of `npm run bench:envoy`, each a running Envoy (CPU 1, inherited from the bench
// process) and, for ext_authz, its authorizer (CPU 0): started once, confirmed to decide as
// expected, measured row after row, stopped at the end.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDocument } from 'yaml'
import { createCheckClient } from '../../../test/helpers/check-client.js'
import { startEnvoy, type RunningEnvoy } from '../../../test/helpers/envoy.js'
import type { CheckResponse } from '../../../src/proto/types.js'
import { benchRequest } from '../requests.js'
import { encodeCheckResponse } from '../../../src/proto/load.js'
import { baseline, floor, h2Fixed, ours, type Server } from '../servers.js'
import { envoyConfig, type Guard } from './config.js'
import { startOpa } from './opa.js'
import { ISSUER, type BenchKeys } from './tokens.js'
import { scratchDir } from './scratch.js'

export type SetUpName =
  | 'envoy'
  | 'jwt_authn'
  | 'ours'
  | 'ours-sampled'
  | 'ours-cold'
  | 'ours-http'
  | 'opa'
  | 'baseline'
  | 'floor'
  | 'h2-sync'
  | 'h2-turn'
  | 'baseline-turn'
  | 'ours-before'

/** What the sampled upstream must see: the key, the caller's sub and no JWT ('fixed': any sub), or the request as sent. */
export type View = 'rewritten' | 'fixed' | 'untouched'

export interface SetUp {
  readonly name: SetUpName
  readonly envoy: RunningEnvoy
  readonly envoyPid: number
  /** The external authorizer's process, for ext_authz set-ups. */
  readonly authz?: Server
  /** What the authorizer answered the hot token before the load (ext_authz set-ups). */
  readonly hotAnswer?: CheckResponse
  readonly view: View
  stop(): Promise<void>
}

export const LABELS: Record<SetUpName, string> = {
  envoy: '1. Envoy, no authorization filter',
  jwt_authn: '2. Envoy jwt_authn + rbac (in-process)',
  ours: '3. ext_authz → jwt-ext-authz, as shipped (every decision logged)',
  'ours-sampled': '3s. ext_authz → jwt-ext-authz, allow decisions sampled (1%)',
  'ours-cold': '3. ext_authz → jwt-ext-authz, as shipped, token cache off',
  opa: '4. ext_authz → OPA-Envoy v1.19.1 (io_jwt cache configured)',
  baseline: '5. ext_authz → fixed-allow grpc-js baseline (answers what we answer)',
  floor: '6. ext_authz → fixed-allow gRPC C-core server (python3-grpcio): the floor',
  'h2-sync': '7. ext_authz → fixed-allow bare node:http2, answered in the read',
  'h2-turn': '7t. ext_authz → fixed-allow bare node:http2, one answer per event-loop turn',
  'baseline-turn': '5t. ext_authz → fixed-allow grpc-js, one answer per event-loop turn',
  'ours-before': '3b. ext_authz → jwt-ext-authz before this change (grpc-js Check)',
  'ours-http': '3h. ext_authz http_service → jwt-ext-authz HTTP listener, as shipped',
}

/** BENCH_BEFORE: a built checkout of the code before a change, run as set-up 3b. */
export const BEFORE = process.env.BENCH_BEFORE

/** The fixed-allow servers: each answers what ours answered the hot token. */
export const FIXED: ReadonlySet<SetUpName> = new Set([
  'baseline',
  'floor',
  'h2-sync',
  'h2-turn',
  'baseline-turn',
])

export interface SetUpContext {
  readonly keys: BenchKeys
  readonly openaiKey: string
  readonly echoPort: number
  /** The answer the baseline gives every Check: ours to the hot token (same work for Envoy). */
  readonly baselineAnswer?: CheckResponse
}

/** examples/llm-gateway.yaml with the bench's key set and the given changes. */
function oursConfig(ctx: SetUpContext, changes: Record<string, unknown>): string {
  const doc = parseDocument(readFileSync('examples/llm-gateway.yaml', 'utf8'))
  doc.setIn(['providers', 'solo', 'jwks', 'local', 'key'], ctx.keys.jwks)
  for (const [key, value] of Object.entries(changes)) doc.set(key, value)
  const file = join(scratchDir('ours'), 'config.yaml')
  writeFileSync(file, doc.toString())
  return file
}

async function authorizer(name: SetUpName, ctx: SetUpContext): Promise<Server | undefined> {
  switch (name) {
    case 'ours':
      return ours(oursConfig(ctx, {}))
    case 'ours-sampled':
      return ours(oursConfig(ctx, { log: { decisions: { allow: 0.01 } } }))
    case 'ours-cold':
      return ours(oursConfig(ctx, { tokenCache: { maxEntries: 0 } }))
    case 'ours-before':
      return ours(oursConfig(ctx, {}), 1, { root: BEFORE })
    case 'baseline-turn':
      return baseline(answerFile(ctx.baselineAnswer), 'turn')
    case 'ours-http':
      return ours(oursConfig(ctx, {}), 1, { httpAuthz: true })
    case 'floor':
      return floor(answerBytesFile(ctx.baselineAnswer))
    case 'h2-sync':
    case 'h2-turn':
      return h2Fixed(answerBytesFile(ctx.baselineAnswer), name === 'h2-sync' ? 'sync' : 'turn')
    case 'opa':
      return startOpa({ jwks: ctx.keys.jwks, openaiKey: ctx.openaiKey })
    case 'baseline':
      return baseline(answerFile(ctx.baselineAnswer))
    default:
      return undefined
  }
}

function answerFile(answer: CheckResponse | undefined): string | undefined {
  if (answer === undefined) return undefined
  const file = join(scratchDir('answer'), 'answer.json')
  writeFileSync(file, JSON.stringify(answer))
  return file
}

/** The answer as protobuf bytes, for the servers that answer bytes (the floor, bare HTTP/2). */
function answerBytesFile(answer: CheckResponse | undefined): string {
  if (answer === undefined) throw new Error('the fixed-allow servers need the answer ours gave')
  const file = join(scratchDir('answer'), 'answer.bin')
  writeFileSync(file, encodeCheckResponse(answer))
  return file
}

/**
 * A real gRPC client asks the authorizer about a hot and a cold token before any load;
 * resolves with its answer to the hot one.
 */
async function confirmAllows(server: Server, ctx: SetUpContext): Promise<CheckResponse> {
  const client = createCheckClient(`127.0.0.1:${server.port}`, { ownConnection: true })
  try {
    const answers: CheckResponse[] = []
    for (const { token } of [ctx.keys.hot[0]!, ctx.keys.cold[0]!]) {
      const res = await client.check(benchRequest(token))
      // Status code 0 may be left out on the wire (OPA does): an allow is no denied_response.
      if ((res.status?.code ?? 0) !== 0 || res.denied_response)
        throw new Error(`not allowed: ${JSON.stringify(res)}`)
      answers.push(res)
    }
    return answers[0]!
  } finally {
    client.close()
  }
}

function guardOf(name: SetUpName, ctx: SetUpContext, authz?: Server): Guard {
  if (authz?.httpPort !== undefined) return { kind: 'ext_authz_http', port: authz.httpPort }
  if (authz !== undefined) return { kind: 'ext_authz', port: authz.port }
  if (name === 'jwt_authn') return { kind: 'jwt_authn', jwks: ctx.keys.jwks, issuer: ISSUER }
  return { kind: 'none' }
}

/** The pids of this process's envoy children (pgrep once per start, never during load). */
function envoyChildren(): number[] {
  try {
    const out = execFileSync('pgrep', ['-P', String(process.pid), '-x', 'envoy'], {
      encoding: 'utf8',
    })
    return out.split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

export async function startSetUp(name: SetUpName, ctx: SetUpContext): Promise<SetUp> {
  const authz = await authorizer(name, ctx)
  try {
    return await withEnvoy(name, ctx, authz)
  } catch (err) {
    authz?.stop()
    throw err
  }
}

async function withEnvoy(name: SetUpName, ctx: SetUpContext, authz?: Server): Promise<SetUp> {
  const hotAnswer = authz === undefined ? undefined : await confirmAllows(authz, ctx)
  const before = new Set(envoyChildren())
  const envoy = await startEnvoy(
    envoyConfig({
      guard: guardOf(name, ctx, authz),
      echoPort: ctx.echoPort,
      // Envoy's own filters cannot set a header from a secret: the route adds the key.
      ...(name === 'jwt_authn' && { routeKey: ctx.openaiKey }),
    }),
    `bench-${name}`,
  )
  const envoyPid = envoyChildren().find((pid) => !before.has(pid))
  if (envoyPid === undefined) {
    await envoy.stop()
    throw new Error('the new Envoy process was not found')
  }
  const rewrites = name === 'jwt_authn' || name === 'opa' || name.startsWith('ours')
  const fixed = FIXED.has(name) && ctx.baselineAnswer !== undefined
  return {
    name,
    envoy,
    envoyPid,
    ...(authz && { authz }),
    ...(hotAnswer && { hotAnswer }),
    view: rewrites ? 'rewritten' : fixed ? 'fixed' : 'untouched',
    stop: async () => {
      await envoy.stop()
      authz?.stop()
    },
  }
}
