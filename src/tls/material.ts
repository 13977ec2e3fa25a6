import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { createSecureContext } from 'node:tls'
import type { ListenTlsConfig } from '../config/schema.js'

/** `listen.tls` with its paths resolved against the config file's directory. */
export interface TlsFiles {
  readonly cert: string
  readonly key: string
  readonly clientCa: string | undefined
}

/** PEM bytes Node's TLS server takes, checked to work together. */
export interface TlsMaterial {
  readonly cert: Buffer
  readonly key: Buffer
  readonly ca: Buffer | undefined
  /** When the server certificate expires (logged on load, for operators). */
  readonly notAfter: Date
}

/** A file of `listen.tls` that cannot serve; `path` is the config key (`listen.tls.cert`). */
export class TlsMaterialError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`)
    this.name = 'TlsMaterialError'
  }
}

export function tlsFiles(config: ListenTlsConfig, baseDir: string): TlsFiles {
  return {
    cert: resolve(baseDir, config.cert),
    key: resolve(baseDir, config.key),
    clientCa: config.clientCa === undefined ? undefined : resolve(baseDir, config.clientCa),
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g

/**
 * Reads and checks the files: the certificate parses and has not expired, the key is its
 * key, the CA file holds certificates, and OpenSSL takes them together. A half-written
 * rotation (new certificate, old key) fails here, so the last good material keeps serving.
 */
export function readTlsMaterial(files: TlsFiles, now: Date): TlsMaterial {
  const cert = readPem(files.cert, 'listen.tls.cert')
  const key = readPem(files.key, 'listen.tls.key')
  const ca =
    files.clientCa === undefined ? undefined : readPem(files.clientCa, 'listen.tls.clientCa')
  const leaf = parse('listen.tls.cert', () => new X509Certificate(cert), 'not a PEM certificate')
  const notAfter = new Date(leaf.validTo)
  if (!(notAfter.getTime() > now.getTime())) {
    throw new TlsMaterialError('listen.tls.cert', `expired on ${notAfter.toISOString()}`)
  }
  const privateKey = parse('listen.tls.key', () => createPrivateKey(key), 'not a PEM private key')
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsMaterialError('listen.tls.key', 'is not the key of listen.tls.cert')
  }
  if (ca !== undefined) checkCaBundle(ca)
  parse('listen.tls', () => createSecureContext({ cert, key, ca }), 'refused by OpenSSL')
  return { cert, key, ca, notAfter }
}

function checkCaBundle(ca: Buffer): void {
  const blocks = ca.toString('latin1').match(PEM_CERTIFICATE) ?? []
  if (blocks.length === 0) {
    throw new TlsMaterialError('listen.tls.clientCa', 'holds no PEM certificate')
  }
  for (const block of blocks)
    parse('listen.tls.clientCa', () => new X509Certificate(block), 'not a PEM certificate')
}

function readPem(file: string, path: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new TlsMaterialError(path, `cannot read ${file} (${code})`)
  }
}

/** Keeps the library's reason: it is what an operator needs to fix the file. */
function parse<T>(path: string, fn: () => T, what: string): T {
  try {
    return fn()
  } catch (err) {
    throw new TlsMaterialError(path, `${what}: ${(err as Error).message}`)
  }
}
