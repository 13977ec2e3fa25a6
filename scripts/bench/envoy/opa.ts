// OPA-Envoy (opa-envoy-plugin v1.19.1-envoy, built by scripts/bench/setup.sh into .bench-bin/)
// as set-up 4 runs it: `opa run --server` with the envoy_ext_authz_grpc plugin, policy.rego and
// a data document, pinned to CPU 0 like every authorizer. Every listener it opens is on
// loopback: the gRPC plugin on 127.0.0.1:0 (its default is :9191, all interfaces), OPA's REST
// API on a unix socket in a temporary folder (its default is localhost:8181), no diagnostic
// or pprof listener (both off unless asked for), and no version check (it calls GitHub).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Server } from '../servers.js'
import { scratchDir } from './scratch.js'

export const OPA_BIN = resolve('.bench-bin/opa-envoy-plugin')
const POLICY = join(import.meta.dirname, 'policy.rego')

/**
 * OPA's configuration: the gRPC plugin on loopback, and the io_jwt inter-query value cache on
 * (off by default; OPA's docs: caching.inter_query_builtin_value_cache.named.io_jwt).
 */
function opaConfig(): string {
  return JSON.stringify({
    plugins: { envoy_ext_authz_grpc: { addr: '127.0.0.1:0', path: 'envoy/authz/allow' } },
    caching: { inter_query_builtin_value_cache: { named: { io_jwt: { max_num_entries: 10000 } } } },
  })
}

/** The TCP ports `pid` listens on, with their local addresses, from /proc. */
export function listeningPorts(pid: number): { address: string; port: number }[] {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.add(m[1]!)
    } catch {
      // The descriptor closed while we looked.
    }
  }
  const found: { address: string; port: number }[] = []
  for (const table of ['tcp', 'tcp6']) {
    const file = `/proc/${pid}/net/${table}`
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue // 0A: LISTEN
      const [hex, port] = f[1]!.split(':')
      found.push({ address: hex === '0100007F' ? '127.0.0.1' : hex!, port: parseInt(port!, 16) })
    }
  }
  return found
}

/** Polls (OPA announces no port) until the process listens on one TCP port, on loopback. */
async function grpcPort(pid: number, exited: () => boolean, log: () => string): Promise<number> {
  const deadline = Date.now() + 60_000
  for (;;) {
    if (exited()) throw new Error(`opa-envoy-plugin exited:\n${log()}`)
    const ports = listeningPorts(pid)
    if (ports.length > 0) {
      if (ports.length !== 1 || ports[0]!.address !== '127.0.0.1')
        throw new Error(`OPA listens beyond one loopback port: ${JSON.stringify(ports)}`)
      return ports[0]!.port
    }
    if (Date.now() > deadline) throw new Error(`OPA opened no gRPC port:\n${log()}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Starts OPA-Envoy on CPU 0 with `data` as its data document (under `bench`). */
export async function startOpa(data: { jwks: string; openaiKey: string }): Promise<Server> {
  if (!existsSync(OPA_BIN)) throw new Error(`${OPA_BIN} is missing: run scripts/bench/setup.sh`)
  const dir = scratchDir('opa')
  writeFileSync(join(dir, 'config.json'), opaConfig())
  writeFileSync(
    join(dir, 'data.json'),
    JSON.stringify({ bench: { jwks: data.jwks, openai_key: data.openaiKey } }),
  )
  const args = ['run', '--server', '--addr', `unix://${join(dir, 'opa.sock')}`]
  args.push('--skip-version-check', '--config-file', join(dir, 'config.json'))
  const proc = spawn('taskset', ['-c', '0', OPA_BIN, ...args, POLICY, join(dir, 'data.json')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  proc.stderr.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)))
  const exited = once(proc, 'exit')
  const port = await grpcPort(
    proc.pid!,
    () => proc.exitCode !== null,
    () => log,
  )
  return {
    port,
    pid: proc.pid!,
    stop: () => {
      proc.kill('SIGTERM')
      void exited
    },
  }
}
