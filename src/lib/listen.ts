import type { AddressInfo, Server } from 'node:net'

/** Binds `server` to `host` and `port` (0 picks one); resolves with the port, rejects on error. */
export async function listenOn(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return (server.address() as AddressInfo).port
}
