/** Splits `host:port` / `[::1]:port` for node:http; grpc-js takes the string as it is. */
export function splitHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':')
  const port = Number(address.slice(colon + 1))
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`not a host:port address: ${address}`)
  }
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port }
}

/** The host part of `host:port` as written (brackets kept), for messages. */
export function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':'))
}
