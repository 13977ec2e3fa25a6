import { credentials, makeGenericClientConstructor, type ClientReadableStream } from '@grpc/grpc-js'
import { service } from 'grpc-health-check'

interface HealthStub {
  Check(
    req: { service: string },
    cb: (err: Error | null, res: { status: string | number }) => void,
  ): void
  Watch(req: { service: string }): ClientReadableStream<{ status: string | number }>
  close(): void
}

const statusName = (status: string | number): string =>
  typeof status === 'number'
    ? (['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][status] ?? 'UNKNOWN')
    : status

export interface HealthWatch {
  /** Resolves when the server reports `status` (now or later); rejects if the stream ends. */
  until(status: string): Promise<void>
  close(): void
}

/**
 * grpc.health.v1 Watch on `name`: the server pushes every change, so a test waits on the
 * status itself. The stream, opened before a shutdown, keeps reporting through the drain.
 */
export function watchHealth(address: string, name: string): HealthWatch {
  const Health = makeGenericClientConstructor(service, 'Health')
  const client = new Health(address, credentials.createInsecure()) as unknown as HealthStub
  const stream = client.Watch({ service: name })
  const seen: string[] = []
  const waiters: { status: string; resolve: () => void; reject: (e: Error) => void }[] = []
  stream.on('data', (res: { status: string | number }) => {
    seen.push(statusName(res.status))
    for (const w of waiters.filter((w) => w.status === seen.at(-1))) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
  })
  const ended = (err?: Error): void => {
    for (const w of waiters.splice(0))
      w.reject(err ?? new Error(`health watch ended; seen: ${seen.join(', ')}`))
  }
  stream.on('error', ended)
  stream.on('end', () => ended())
  return {
    until: (status) =>
      seen.at(-1) === status
        ? Promise.resolve()
        : new Promise((resolve, reject) => waiters.push({ status, resolve, reject })),
    close: () => {
      stream.cancel()
      client.close()
    },
  }
}

/**
 * grpc.health.v1 status of `name` ('' = the server) as SERVING / NOT_SERVING.
 * `ownConnection`: a fresh connection (with `serve --workers`, possibly another worker).
 */
export async function healthStatus(
  address: string,
  name: string,
  opts: { ownConnection?: boolean } = {},
): Promise<string> {
  const Health = makeGenericClientConstructor(service, 'Health')
  const client = new Health(
    address,
    credentials.createInsecure(),
    opts.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {},
  ) as unknown as HealthStub
  try {
    const res = await new Promise<{ status: string | number }>((resolve, reject) =>
      client.Check({ service: name }, (err, r) => (err ? reject(err) : resolve(r))),
    )
    return statusName(res.status)
  } finally {
    client.close()
  }
}
