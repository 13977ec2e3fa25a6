import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { envoySkip } from './envoy.js'
import { eventually } from './eventually.js'
import { removeTempDir, tempDir } from './temp-dir.js'

/** envoyproxy/ratelimit from RATELIMIT_BIN, else this checkout's .venv (scripts/install-ratelimit.sh). */
export function findRateLimit(): string | undefined {
  return [process.env.RATELIMIT_BIN, resolve('.venv/bin/ratelimit')].find(
    (file) => file !== undefined && file !== '' && existsSync(file),
  )
}

const hasRedis = spawnSync('redis-server', ['--version']).error === undefined

/**
 * `skip` for node:test: false when Envoy, envoyproxy/ratelimit and redis-server are all here.
 * In CI a missing one fails the run (budgets would otherwise pass untested); elsewhere the
 * reason says how to install it.
 */
export function budgetsSkip(): string | false {
  const envoy = envoySkip()
  if (envoy !== false) return envoy
  const missing = [
    findRateLimit() === undefined ? 'envoyproxy/ratelimit (scripts/install-ratelimit.sh)' : '',
    hasRedis ? '' : 'redis-server (apt-get install redis-server)',
  ].filter((m) => m !== '')
  if (missing.length === 0) return false
  if (process.env.CI) throw new Error(`missing in CI: ${missing.join(', ')}`)
  return `not installed: ${missing.join(', ')}`
}

/** A process of this helper: stopped (SIGTERM) or killed (SIGKILL), and waited for. */
export interface PeerProcess {
  readonly pid: number
  /** Everything it wrote on stdout and stderr. */
  output(): string
  kill(): Promise<void>
  stop(): Promise<void>
}

export interface RunningRedis extends PeerProcess {
  /** The Unix socket it listens on (no TCP port: nothing to collide with). */
  readonly socket: string
}

/** A throwaway Redis: Unix socket in a temp dir, no persistence, gone when stopped. */
export async function startRedis(): Promise<RunningRedis> {
  const dir = tempDir('redis')
  const socket = join(dir, 'redis.sock')
  const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700']
  const proc = spawn(
    'redis-server',
    [...args, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const peer = peerProcess(proc, dir)
  await untilReady(
    peer,
    proc,
    () => existsSync(socket) && /ready to accept connections/i.test(peer.output()),
  )
  return { ...peer, socket }
}

export interface RunningRateLimit extends PeerProcess {
  /** `unix:<path>` of its gRPC listener, as Envoy's pipe address takes it. */
  readonly grpc: string
}

/**
 * envoyproxy/ratelimit with `config` (its YAML) on a Unix socket for gRPC, its HTTP and
 * debug ports on loopback port 0 (unused here), counters in `redis`. Resolves once the
 * config is loaded and the gRPC socket exists.
 */
export async function startRateLimit(
  config: string,
  redis: RunningRedis,
): Promise<RunningRateLimit> {
  const bin = findRateLimit()
  if (bin === undefined) throw new Error('envoyproxy/ratelimit is not installed')
  const dir = tempDir('ratelimit')
  mkdirSync(join(dir, 'runtime', 'ratelimit', 'config'), { recursive: true })
  writeFileSync(join(dir, 'runtime', 'ratelimit', 'config', 'config.yaml'), config)
  const socket = join(dir, 'grpc.sock')
  const proc = spawn(bin, [], {
    env: {
      ...process.env,
      // Every listener on loopback (their default is every interface), gRPC on the socket.
      GRPC_HOST: '127.0.0.1',
      GRPC_UDS: socket,
      HOST: '127.0.0.1',
      PORT: '0',
      DEBUG_HOST: '127.0.0.1',
      DEBUG_PORT: '0',
      USE_STATSD: 'false',
      RUNTIME_ROOT: join(dir, 'runtime'),
      RUNTIME_SUBDIRECTORY: 'ratelimit',
      RUNTIME_WATCH_ROOT: 'false',
      // As docker-compose.yml: a request one budget refuses costs the others nothing.
      STOP_CACHE_KEY_INCREMENT_WHEN_OVERLIMIT: 'true',
      REDIS_SOCKET_TYPE: 'unix',
      REDIS_URL: redis.socket,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const peer = peerProcess(proc, dir)
  await untilReady(peer, proc, () => {
    // A config it cannot load is logged, and the service listens anyway, without limits.
    const refused = /Error loading new configuration: .*/.exec(peer.output())
    if (refused !== null) throw new Error(`ratelimit refused its config: ${refused[0]}`)
    return (
      existsSync(socket) && /Successfully loaded the initial ratelimit configs/.test(peer.output())
    )
  })
  return { ...peer, grpc: `unix:${socket}` }
}

function peerProcess(proc: ChildProcess, dir: string): PeerProcess {
  let output = ''
  proc.stdout?.on('data', (c: Buffer) => (output += c.toString()))
  proc.stderr?.on('data', (c: Buffer) => (output += c.toString()))
  const exited = once(proc, 'exit')
  const end = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal)
      await exited
    }
    removeTempDir(dir)
  }
  return {
    pid: proc.pid!,
    output: () => output,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  }
}

/** Waits for what the process says (its log, its socket), failing at once if it exits. */
async function untilReady(peer: PeerProcess, proc: ChildProcess, ready: () => boolean) {
  await eventually(`${proc.spawnfile} to be ready`, () => {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`${proc.spawnfile} exited before it was ready:\n${peer.output()}`)
    return ready()
  })
}
