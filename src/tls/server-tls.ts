import type { Server as TlsServer, TLSSocket, TlsOptions } from 'node:tls'
import type { Logger } from '../ops/log.js'
import { readTlsMaterial, TlsMaterialError, type TlsFiles, type TlsMaterial } from './material.js'
import { compileSanPolicy, type SanPolicy } from './peer-identity.js'
import { watchFiles } from './watch-files.js'

export interface ServerTlsDeps {
  readonly files: TlsFiles
  /** `listen.tls.allowedSans`; undefined lets any certificate of the CA in. */
  readonly allowedSans?: readonly string[] | undefined
  readonly log: Logger
  readonly now?: () => Date
}

/** A TLS handshake that has not finished by then is dropped (a slow client holds a socket). */
const HANDSHAKE_TIMEOUT_MS = 10_000

/**
 * The TLS state of the Check listeners: the certificate, key and client CA in use, the SAN
 * rule, and the servers to update when the files change. With a client CA, a client must
 * present a certificate it signed (else the handshake fails), and one whose SANs are not
 * allowed is disconnected right after the handshake, before a byte of HTTP is read: no Check
 * is ever evaluated for it. A reload that cannot be used keeps the last good material.
 */
export class ServerTls {
  /** Whether a client certificate is required (`clientCa` set). */
  readonly mutual: boolean
  readonly #deps: ServerTlsDeps
  readonly #now: () => Date
  readonly #sanAllowed: SanPolicy
  readonly #servers = new Set<TlsServer>()
  #material: TlsMaterial
  #stopWatching: (() => void) | undefined

  /** Reads the files; throws TlsMaterialError naming the config key when they cannot serve. */
  constructor(deps: ServerTlsDeps) {
    this.#deps = deps
    this.#now = deps.now ?? (() => new Date())
    this.mutual = deps.files.clientCa !== undefined
    this.#sanAllowed = compileSanPolicy(deps.allowedSans)
    this.#material = readTlsMaterial(deps.files, this.#now())
  }

  /** Options for `tls.createServer` / `https.createServer`. */
  serverOptions(): TlsOptions {
    const { cert, key, ca } = this.#material
    return {
      cert,
      key,
      ca,
      requestCert: this.mutual,
      rejectUnauthorized: this.mutual,
      minVersion: 'TLSv1.2',
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    }
  }

  /**
   * Checks the SANs of every client of `server` and gives it every reload. The check is
   * prepended so it runs before the server's own connection listener, which then sees a
   * destroyed socket.
   */
  attach(server: TlsServer, listener: string): void {
    this.#servers.add(server)
    server.prependListener('secureConnection', (socket: TLSSocket) => {
      if (!this.#admits(socket, listener)) socket.destroy()
    })
    // Unauthenticated callers can cause these at will: debug, never above.
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      this.#deps.log.debug(
        { listener, remoteAddress: socket.remoteAddress, code: err.code },
        'TLS handshake failed',
      )
      socket.destroy()
    })
    // accept() failures (EMFILE) arrive here after listen; unhandled they would end the process.
    server.on('error', (err: NodeJS.ErrnoException) => {
      if (server.listening) this.#deps.log.error({ listener, code: err.code }, 'TLS listener error')
    })
    server.once('close', () => this.#servers.delete(server))
  }

  /** Re-reads the files; returns whether the new material is in use. */
  reload(trigger: string): boolean {
    const { log } = this.#deps
    let next: TlsMaterial
    try {
      next = readTlsMaterial(this.#deps.files, this.#now())
    } catch (err) {
      const { path, message } =
        err instanceof TlsMaterialError ? err : { path: 'listen.tls', message: String(err) }
      log.error(
        { trigger, path, error: message },
        'TLS reload refused; the last good certificates keep serving',
      )
      return false
    }
    if (sameMaterial(next, this.#material)) return true
    this.#material = next
    const options = this.serverOptions()
    for (const server of this.#servers) server.setSecureContext(options)
    log.info({ trigger, notAfter: next.notAfter.toISOString() }, 'TLS certificates reloaded')
    return true
  }

  /** Reloads when the certificate, key or CA file changes (until `close`). */
  watch(): void {
    const { cert, key, clientCa } = this.#deps.files
    this.#stopWatching?.()
    this.#stopWatching = watchFiles(
      clientCa === undefined ? [cert, key] : [cert, key, clientCa],
      (trigger) => void this.reload(trigger),
      (dir, error) =>
        this.#deps.log.warn(
          { dir, error: error.message },
          'cannot watch TLS files for changes; SIGHUP still reloads them',
        ),
    )
  }

  close(): void {
    this.#stopWatching?.()
    this.#stopWatching = undefined
  }

  #admits(socket: TLSSocket, listener: string): boolean {
    if (!this.mutual) return true
    const san = socket.getPeerX509Certificate()?.subjectAltName
    // `authorized` is already guaranteed by rejectUnauthorized; checked again on purpose.
    if (socket.authorized && this.#sanAllowed(san)) return true
    this.#deps.log.warn(
      { listener, remoteAddress: socket.remoteAddress, subjectAltName: san ?? null },
      'client certificate refused: no allowed SAN (listen.tls.allowedSans)',
    )
    return false
  }
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  const sameCa = a.ca === undefined ? b.ca === undefined : b.ca !== undefined && a.ca.equals(b.ca)
  return sameCa && a.cert.equals(b.cert) && a.key.equals(b.key)
}
