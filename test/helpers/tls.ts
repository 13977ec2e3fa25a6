import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestCa {
  /** Path of the CA certificate (PEM), for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string
  /** A server certificate for 127.0.0.1 signed by the CA, and its key (PEM). */
  readonly cert: string
  readonly key: string
}

/**
 * A throwaway CA and a 127.0.0.1 server certificate, made with openssl in a temp directory
 * for one test run (a day's validity). Nothing is committed; nothing trusts it but a child
 * process started with NODE_EXTRA_CA_CERTS pointing at `caFile`.
 */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-ext-authz-ca-'))
  const at = (name: string) => join(dir, name)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  writeFileSync(
    at('leaf.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  )
  openssl(
    ['req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '1'],
    [
      '-subj',
      '/CN=jwt-ext-authz test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    ],
  )
  openssl(
    ['req', ...ec, '-keyout', at('leaf.key'), '-out', at('leaf.csr')],
    ['-subj', '/CN=127.0.0.1'],
  )
  openssl(
    ['x509', '-req', '-in', at('leaf.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key')],
    ['-CAcreateserial', '-out', at('leaf.pem'), '-days', '1', '-extfile', at('leaf.ext')],
  )
  return {
    caFile: at('ca.pem'),
    cert: readFileSync(at('leaf.pem'), 'utf8'),
    key: readFileSync(at('leaf.key'), 'utf8'),
  }
}

function openssl(args: string[], more: string[]): void {
  const run = spawnSync('openssl', [...args, ...more], { encoding: 'utf8' })
  if (run.error !== undefined || run.status !== 0)
    throw new Error(`openssl ${args[0]} failed: ${run.error?.message ?? run.stderr}`)
}
