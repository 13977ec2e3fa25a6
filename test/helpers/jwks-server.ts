import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'

export type Behaviour = 'ok' | 'error500' | 'hang' | 'garbage' | 'huge' | 'no-keys'

/**
 * A real HTTP server standing in for an IdP: serves a JWKS and an OIDC discovery document,
 * and can be told to fail the ways real IdPs do. Counts every JWKS request.
 */
export class JwksServer {
  keys: JWK[] = []
  behaviour: Behaviour = 'ok'
  /** `issuer` the discovery document claims. */
  issuer = ''
  jwksHits = 0
  discoveryHits = 0
  /** Paths answered with a 302 to the given Location (absolute or relative). */
  readonly redirects = new Map<string, string>()
  readonly #hung: ServerResponse[] = []
  readonly #onHang: (() => void)[] = []
  readonly #server = createServer((req, res) => this.#answer(req, res))
  url = ''

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  get jwksUrl(): string {
    return `${this.url}/jwks.json`
  }

  /** Resolves when the next JWKS request is held by 'hang' (the fetch is in flight). */
  whenHung(): Promise<void> {
    return new Promise((resolve) => this.#onHang.push(resolve))
  }

  /** Answers every held ('hang') JWKS request with the keys, and serves them from now on. */
  release(): void {
    this.behaviour = 'ok'
    for (const res of this.#hung.splice(0))
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: this.keys }))
  }

  /** JWKS requests held unanswered right now ('hang'). */
  get held(): number {
    return this.#hung.length
  }

  async close(): Promise<void> {
    for (const res of this.#hung.splice(0)) res.destroy()
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const location = this.redirects.get(req.url ?? '')
    if (location !== undefined) {
      res.writeHead(302, { location }).end()
      return
    }
    if (req.url === '/.well-known/openid-configuration') {
      this.discoveryHits++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ issuer: this.issuer, jwks_uri: this.jwksUrl }))
      return
    }
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end()
      return
    }
    this.jwksHits++
    switch (this.behaviour) {
      case 'ok':
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: this.keys }))
        return
      case 'error500':
        res.writeHead(500).end('internal error')
        return
      case 'hang':
        this.#hung.push(res)
        for (const resolve of this.#onHang.splice(0)) resolve()
        return
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json')
        return
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ keys: this.keys, padding: 'x'.repeat(1024 * 1024 + 1) }))
        return
      case 'no-keys':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"foo": []}')
        return
    }
  }
}
