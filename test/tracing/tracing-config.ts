import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SEED_PEM_PUBLIC_KEY } from '../helpers/keys.js'
import { tempDir } from '../helpers/temp-dir.js'

/** The injected key: it must never appear in a span. */
export const OPENAI_KEY = 'sk-tracing-test-key-0123456789'

/**
 * A config for the tracing tests: the seed provider (local key), an optional remote-JWKS
 * provider, routes openai (Alice allowed, Bob denied) and remote; `tracing` as given.
 */
export function writeTracingConfig(tracing: string, jwksUrl?: string): string {
  const dir = tempDir('jwt-ext-authz-tracing')
  const file = join(dir, 'config.yaml')
  const remote =
    jwksUrl === undefined
      ? ''
      : `  rotating:
    issuer: rotating.example
    jwks: { remote: { url: ${jwksUrl}, checkWait: 5s, insecure: true } }
`
  const remoteRoute =
    jwksUrl === undefined
      ? ''
      : `  - name: remote
    match: { prefix: /remote }
    providers: [rotating]
`
  writeFileSync(
    file,
    `${tracing}
secrets:
  openai: { env: TRACING_TEST_OPENAI_KEY, default: ${OPENAI_KEY} }
providers:
  solo:
    issuer: solo.io
    jwks: { local: { key: ${JSON.stringify(SEED_PEM_PUBLIC_KEY)} } }
${remote}routes:
${remoteRoute}  - name: openai
    match: { prefix: /openai }
    providers: [solo]
    rbac:
      policies:
        viewer:
          nestedClaimDelimiter: .
          principals: [{ jwtPrincipal: { claims: { llms.openai: gpt-3.5-turbo }, matcher: LIST_CONTAINS } }]
    upstream:
      headers:
        authorization: { secret: openai, prefix: "Bearer " }
        x-user-id: { claim: sub }
`,
  )
  return file
}

/** A W3C traceparent with fresh random ids. */
export function newTraceparent(sampled = true): {
  header: string
  traceId: string
  spanId: string
} {
  const traceId = randomHex(16)
  const spanId = randomHex(8)
  return { header: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`, traceId, spanId }
}

function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex')
}

/** Env for a traced serve process: batches leave at once, not every 5 s. */
export const FAST_EXPORT = { OTEL_BSP_SCHEDULE_DELAY: '20' }
