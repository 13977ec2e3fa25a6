import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { parse, stringify } from 'yaml'
import { rateLimitPerRoute } from '../../src/budgets/envoy-rate-limits.js'
import { serviceText } from '../../src/cli/ratelimit-config.js'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'
import type { BudgetsConfig } from '../../src/config/budgets-schema.js'
import { startEnvoy, type RunningEnvoy } from './envoy.js'
import type { EnvoyBootstrap } from './envoy-gateway.js'
import { eventually } from './eventually.js'
import { send, type Answer } from './gateway-scenarios.js'
import { startOpenAiCompatible, type OpenAiCompatibleProvider } from './openai-provider.js'
import {
  startRateLimit,
  startRedis,
  type RunningRateLimit,
  type RunningRedis,
} from './ratelimit.js'
import { DEMO_ENV } from './server.js'
import { startServeProcess, type ServeProcess } from './serve-process.js'
import { pointShippedConfig } from './shipped-envoy.js'
import { tempDir } from './temp-dir.js'

const ISSUER = 'budgets-test'
const SECRET = 'budgets-test-secret-0123456789abcdef0123456789'
const ENVOY_FILE = 'envoy/envoy-budgets.yaml'

/**
 * Our config for the budget tests: callers with HS256 tokens minted in the test, one route
 * (`/openai`) whose rule authorizes the body's model from `llms.openai`, then `budgets`.
 */
function budgetConfig(budgets: string): string {
  const jwks = JSON.stringify({
    keys: [{ kty: 'oct', alg: 'HS256', k: Buffer.from(SECRET).toString('base64url') }],
  })
  return `secrets:
  openai: { env: OPENAI_API_KEY }
providers:
  test:
    issuer: ${ISSUER}
    jwks: { local: { key: '${jwks}' } }
routes:
  - name: openai
    match: { prefix: /openai }
    rbac:
      policies:
        models:
          nestedClaimDelimiter: .
          principals:
            - jwtPrincipal: { claims: { llms.openai: "\${request.body.model}" }, matcher: LIST_CONTAINS }
    upstream:
      headers:
        authorization: { secret: openai, prefix: "Bearer " }
budgets:
${budgets.replace(/^/gm, '  ')}
`
}

/** A caller's token: `sub`, the models it may use, and any other claim (team, tier). */
export function callerToken(
  sub: string,
  models: readonly string[],
  claims: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ sub, llms: { openai: models }, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .sign(Buffer.from(SECRET))
}

export interface BudgetGatewayOptions {
  /** The `budgets:` section, as YAML under that key. */
  readonly budgets: string
  /** Replicas of `serve` behind the one Envoy (default 1). */
  readonly replicas?: number
  /**
   * More Envoys beside the shipped one, on the same stack: each a change to a copy of the
   * pointed bootstrap (`failOpen` below), by name.
   */
  readonly variants?: Readonly<Record<string, (bootstrap: EnvoyBootstrap) => void>>
}

/** Redis, envoyproxy/ratelimit, `serve` replicas, an OpenAI-compatible upstream and Envoy. */
export interface BudgetGateway {
  readonly envoy: RunningEnvoy
  /** The Envoys of `variants`, by name. */
  readonly variants: ReadonlyMap<string, RunningEnvoy>
  readonly provider: OpenAiCompatibleProvider
  readonly services: readonly ServeProcess[]
  readonly ratelimit: RunningRateLimit
  readonly redis: RunningRedis
  readonly budgets: BudgetsConfig
  /** POST /openai (a chat completion) through `via` (default: the shipped Envoy). */
  chat(token: string, model: string, options?: ChatOptions): Promise<Answer>
  /**
   * Proves nothing reached the upstream since it had seen `seenBefore` requests: one allowed
   * marker request (a fresh caller) is sent and must be the only one to arrive.
   */
  assertNothingReachedSince(seenBefore: number, via?: RunningEnvoy): Promise<void>
  /** How many rate limit calls Envoy has had answered (stream-done charges too). */
  rateLimitCalls(): Promise<number>
  /** Resolves once Envoy has had `calls` rate limit calls answered. */
  rateLimitCallsDone(calls: number): Promise<void>
  stop(): Promise<void>
}

export interface ChatOptions {
  readonly via?: RunningEnvoy
  readonly stream?: boolean
  /** After `/openai` (default ''): `/v1/...` reaches that provider path instead of chat. */
  readonly path?: string
}

export async function startBudgetGateway(options: BudgetGatewayOptions): Promise<BudgetGateway> {
  const dir = tempDir('budget-gateway')
  const configText = budgetConfig(options.budgets)
  const checked = validateConfig(parseConfigText(configText))
  if (!checked.ok) throw new Error(`test config: ${JSON.stringify(checked.errors)}`)
  const budgets = checked.config.budgets!
  const configFile = join(dir, 'config.yaml')
  writeFileSync(configFile, configText)
  const stack = new Stack()
  try {
    const redis = stack.add(await startRedis())
    const ratelimit = stack.add(await startRateLimit(serviceText(budgets, 'test'), redis))
    const provider = stack.add(await startOpenAiCompatible([DEMO_ENV.OPENAI_API_KEY]))
    const services = await Promise.all(
      Array.from({ length: options.replicas ?? 1 }, () =>
        startServeProcess(['--config', configFile], DEMO_ENV),
      ),
    )
    for (const s of services) stack.add({ stop: () => s.stop().then(() => undefined) })
    const bootstrap = budgetBootstrap(budgets, services, ratelimit, provider)
    const envoy = stack.add(await startEnvoy(stringify(bootstrap), 'envoy-budgets'))
    const variants = new Map<string, RunningEnvoy>()
    for (const [name, change] of Object.entries(options.variants ?? {})) {
      const copy = structuredClone(bootstrap)
      change(copy)
      variants.set(name, stack.add(await startEnvoy(stringify(copy), `envoy-budgets-${name}`)))
    }
    return {
      envoy,
      variants,
      provider,
      services,
      ratelimit,
      redis,
      budgets,
      chat: (token, model, chatOptions = {}) =>
        chat(chatOptions.via ?? envoy, token, model, chatOptions, provider),
      assertNothingReachedSince: (seenBefore, via = envoy) =>
        nothingSince(via, provider, seenBefore),
      rateLimitCalls: () => rateLimitCalls(envoy),
      rateLimitCallsDone: (calls) => rateLimitCallsDone(envoy, calls),
      stop: () => stack.stop(),
    }
  } catch (err) {
    await stack.stop()
    throw err
  }
}

/** envoy/envoy-budgets.yaml pointed at this test, its rate limits generated from `budgets`. */
function budgetBootstrap(
  budgets: BudgetsConfig,
  services: readonly ServeProcess[],
  ratelimit: RunningRateLimit,
  provider: OpenAiCompatibleProvider,
): EnvoyBootstrap {
  const pointed = pointShippedConfig(ENVOY_FILE, {
    'jwt-ext-authz-budgets:9001': services[0]!.grpc,
    'ratelimit:8081': ratelimit.grpc,
    'echo:8080': `127.0.0.1:${provider.port}`,
  })
  const bootstrap: EnvoyBootstrap = parse(pointed.yaml)
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  hcm.route_config.virtual_hosts[0].typed_per_filter_config['envoy.filters.http.ratelimit'] =
    rateLimitPerRoute(budgets)
  const authz = bootstrap.static_resources.clusters.find(
    (c: { name: string }) => c.name === 'jwt_ext_authz',
  )
  const endpoints = authz.load_assignment.endpoints[0].lb_endpoints
  for (const service of services.slice(1)) {
    const [address, port] = [
      service.grpc.replace(/:\d+$/, ''),
      Number(/\d+$/.exec(service.grpc)![0]),
    ]
    endpoints.push({ endpoint: { address: { socket_address: { address, port_value: port } } } })
  }
  return bootstrap
}

/** The HTTP filters of a budgets bootstrap, in order. */
export function httpFilters(bootstrap: EnvoyBootstrap): { name: string; typed_config: any }[] {
  return bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
    .http_filters
}

/** A variant: the rate limit filter's failure_mode_deny turned off. */
export function failOpen(bootstrap: EnvoyBootstrap): void {
  const filter = httpFilters(bootstrap).find((f) => f.name === 'envoy.filters.http.ratelimit')!
  filter.typed_config.failure_mode_deny = false
}

const json = { 'content-type': 'application/json' }

async function chat(
  envoy: RunningEnvoy,
  token: string,
  model: string,
  options: ChatOptions,
  provider: OpenAiCompatibleProvider,
): Promise<Answer> {
  const body = JSON.stringify({
    model,
    messages: [{ role: 'user', content: 'hi' }],
    ...(options.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  })
  const headers = { ...json, authorization: `Bearer ${token}` }
  const url = `${envoy.base}/openai${options.path ?? ''}`
  if (!options.stream) return send(url, 'POST', headers, body)
  return streamed(url, headers, body, () => provider.chunkSeen())
}

/**
 * A streamed request read event by event: the provider sends each event once the one before
 * was received (`seen` tells it), as a client reading the stream would.
 */
function streamed(
  url: string,
  headers: Record<string, string>,
  body: string,
  seen: () => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => {
        const before = text.split('\n\n').length
        text += chunk.toString()
        for (let i = before; i < text.split('\n\n').length; i++) seen()
      })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

let markers = 0

async function nothingSince(
  envoy: RunningEnvoy,
  provider: OpenAiCompatibleProvider,
  seenBefore: number,
): Promise<void> {
  const marker = `/v1/chat/completions?marker=${++markers}`
  const token = await callerToken(`marker-${markers}`, ['marker'])
  const body = JSON.stringify({ model: 'marker', messages: [{ role: 'user', content: 'hi' }] })
  const res = await send(
    `${envoy.base}/openai${marker}`,
    'POST',
    {
      ...json,
      authorization: `Bearer ${token}`,
    },
    body,
  )
  assert.equal(res.status, 200, `the marker request is allowed: ${res.body}`)
  // The provider records a request once it has answered it, before Envoy relays the answer.
  const arrived = provider.seen.slice(seenBefore).map((r) => r.path)
  assert.deepEqual(arrived, [marker], 'only the marker reached the upstream')
}

async function rateLimitCalls(envoy: RunningEnvoy): Promise<number> {
  return (await envoy.stat('cluster.ratelimit.upstream_rq_completed')) ?? 0
}

async function rateLimitCallsDone(envoy: RunningEnvoy, calls: number): Promise<void> {
  await eventually(
    `${calls} rate limit calls answered`,
    async () => (await rateLimitCalls(envoy)) >= calls,
  )
}

/** What the gateway started, stopped in reverse order. */
class Stack {
  readonly #started: { stop(): Promise<void> }[] = []

  add<T extends { stop(): Promise<void> }>(peer: T): T {
    this.#started.push(peer)
    return peer
  }

  async stop(): Promise<void> {
    for (const peer of this.#started.splice(0).reverse()) await peer.stop()
  }
}

const DAY_MS = 86_400_000

/**
 * envoyproxy/ratelimit counts in fixed windows (unix time cut by the unit). The budget tests
 * count per day; a scenario that straddled midnight UTC is run once more, with fresh callers
 * (`attempt` names them), rather than read across two windows.
 */
export async function inOneDay<T>(scenario: (attempt: number) => Promise<T>): Promise<T> {
  const day = Math.floor(Date.now() / DAY_MS)
  const result = await scenario(0)
  return Math.floor(Date.now() / DAY_MS) === day ? result : scenario(1)
}
