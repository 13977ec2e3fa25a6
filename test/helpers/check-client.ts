import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js'
import { loadAuthorizationClient } from '../../src/proto/load.js'
import type { CheckRequest, CheckResponse } from '../../src/proto/types.js'

export interface CheckClient {
  check(
    req: CheckRequest,
    opts?: { deadlineMs?: number; metadata?: Record<string, string> },
  ): Promise<CheckResponse>
  close(): void
}

/**
 * A real grpc-js client for envoy.service.auth.v3.Authorization (insecure, loopback).
 * `ownConnection`: grpc-js otherwise shares one connection among clients of one address.
 */
export function createCheckClient(
  address: string,
  opts: { ownConnection?: boolean } = {},
): CheckClient {
  const Client = loadAuthorizationClient()
  const client = new Client(
    address,
    credentials.createInsecure(),
    opts.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {},
  )
  return {
    check: (req, opts) =>
      new Promise((resolve, reject) => {
        // Generous by default: the deadline catches a hang, never a slow (loaded) machine.
        const deadline = Date.now() + (opts?.deadlineMs ?? 30_000)
        const metadata = new Metadata()
        for (const [key, value] of Object.entries(opts?.metadata ?? {})) metadata.set(key, value)
        client.Check(req, metadata, { deadline }, (err: ServiceError | null, res: CheckResponse) =>
          err ? reject(err) : resolve(res),
        )
      }),
    close: () => client.close(),
  }
}
