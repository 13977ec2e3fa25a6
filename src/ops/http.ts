import { createServer, type Server } from 'node:http'
import { listenOn } from '../lib/listen.js'
/** A prom-client Registry, or the cluster primary's view summing its workers. */
export interface MetricsSource {
  metrics(): Promise<string>
  readonly contentType: string
}

export interface OpsHttpDeps {
  readonly registry: MetricsSource
  /** Why the service is not ready, or undefined when it is. */
  readonly notReadyReason: () => string | undefined
  /** The revision of the config in use (several, comma-joined, while `--workers` reload). */
  readonly configRevision: () => string
}

export interface RunningOpsServer {
  readonly port: number
  close(): Promise<void>
}

/** `/metrics`, `/healthz`, `/readyz` on their own port, with node:http (no framework needed). */
export async function startOpsServer(
  host: string,
  port: number,
  deps: OpsHttpDeps,
): Promise<RunningOpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
    } else if (path === '/readyz') {
      const reason = deps.notReadyReason()
      const revision = deps.configRevision()
      res
        .writeHead(reason === undefined ? 200 : 503, {
          'content-type': 'text/plain',
          'x-config-revision': revision,
        })
        .end(`${reason ?? 'ready'}\nconfig revision ${revision}\n`)
    } else if (path === '/metrics') {
      deps.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': deps.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      )
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    }
  })
  return {
    port: await listenOn(server, host, port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        // Scrapers and probes keep connections alive; do not wait for their idle timeout.
        server.closeIdleConnections()
      }),
  }
}
