import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parse } from 'yaml'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'
import { FORWARD_AUTH_PATH } from '../../src/http-authz/original-request.js'
import type { Doc } from './manifest-docs.js'

// Traefik cannot be installed here (not in Debian): its middleware is checked against our
// endpoint and the example configs. nginx and Caddy run for real in test/http-authz.

function loaded(file: string) {
  const result = validateConfig(parseConfigText(readFileSync(file, 'utf8')))
  assert.ok(result.ok)
  return result.config
}

function upstreamHeaders(file: string): string[] {
  return loaded(file).routes.flatMap((r) => Object.keys(r.upstream.headers))
}

test('the Traefik forwardAuth middleware calls /forward-auth on the HTTP port and copies every upstream header', () => {
  const traefik = parse(readFileSync('deploy/traefik/dynamic.yaml', 'utf8'))
  const auth = traefik.http.middlewares['jwt-ext-authz'].forwardAuth
  const url = new URL(auth.address)
  assert.equal(url.pathname, FORWARD_AUTH_PATH)
  const { listen } = loaded('examples/llm-gateway.yaml')
  assert.equal(url.port, listen.httpAuthz.split(':').at(-1))
  // Traefik's own X-Forwarded-* must describe the request, not the caller's.
  assert.equal(auth.trustForwardHeader, false)
  const copied = new Set(auth.authResponseHeaders.map((h: string) => h.toLowerCase()))
  for (const name of [
    ...upstreamHeaders('examples/llm-gateway.yaml'),
    ...upstreamHeaders('examples/model-aware.yaml'),
  ]) {
    assert.ok(copied.has(name.toLowerCase()), `${name} missing from authResponseHeaders`)
  }
  // Every router asks jwt-ext-authz first, before a middleware rewrites the path (the paths
  // themselves: test/deploy/routes.test.ts).
  for (const [name, router] of Object.entries(traefik.http.routers as Record<string, Doc>))
    assert.equal(router.middlewares[0], 'jwt-ext-authz', name)
})
