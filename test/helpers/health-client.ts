import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js'
import { service } from 'grpc-health-check'

interface HealthStub {
  Check(
    req: { service: string },
    cb: (err: Error | null, res: { status: string | number }) => void,
  ): void
  close(): void
}

/** grpc.health.v1 status of `name` ('' = the server) as SERVING / NOT_SERVING. */
export async function healthStatus(address: string, name: string): Promise<string> {
  const Health = makeGenericClientConstructor(service, 'Health')
  const client = new Health(address, credentials.createInsecure()) as unknown as HealthStub
  try {
    const res = await new Promise<{ status: string | number }>((resolve, reject) =>
      client.Check({ service: name }, (err, r) => (err ? reject(err) : resolve(r))),
    )
    return typeof res.status === 'number'
      ? (['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][res.status] ?? 'UNKNOWN')
      : res.status
  } finally {
    client.close()
  }
}
