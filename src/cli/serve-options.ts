import { join } from 'node:path'
import { packageRoot } from '../lib/package-root.js'

/** What `serve` is asked for on the command line (serve-args.ts checks it). */
export interface ServeOptions {
  readonly config?: string
  readonly grpc?: string
  readonly http?: string
  /** The HTTP authorization listener (`--http-authz`); '' turns it off. */
  readonly httpAuthz?: string
  readonly logLevel?: string
  /** Processes sharing the gRPC port (`--workers`); 1 serves in this process. */
  readonly workers?: number
}

/** The bundled seed-scenario config that `npm start` serves. */
export function bundledExampleConfig(): string {
  return join(packageRoot(), 'examples', 'llm-gateway.yaml')
}
