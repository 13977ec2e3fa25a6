import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'
import { once } from 'node:events'
import { eventually } from './eventually.js'
import { removeTempDir, tempDir } from './temp-dir.js'

/** The Envoy release the suite is pinned to (scripts/install-envoy.sh). */
export const ENVOY_VERSION = '1.40.0'

/** Envoy from ENVOY_BIN, else this checkout's .venv (scripts/install-envoy.sh), else PATH. */
export function findEnvoy(): string | undefined {
  const candidates = [
    process.env.ENVOY_BIN,
    resolve('.venv/bin/envoy'),
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'envoy')),
  ]
  return candidates.find((file) => file !== undefined && file !== '' && existsSync(file))
}

/**
 * `skip` for node:test: false when Envoy is here. In CI a missing Envoy fails the run (the
 * suite would otherwise pass without ever meeting Envoy); elsewhere it says how to get it.
 */
export function envoySkip(): string | false {
  const bin = findEnvoy()
  if (bin !== undefined) {
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout
    if (!version.includes(`/${ENVOY_VERSION}/`))
      throw new Error(`${bin} is not Envoy ${ENVOY_VERSION}: ${version.trim()}`)
    return false
  }
  if (process.env.CI) throw new Error('Envoy is missing in CI: run scripts/install-envoy.sh')
  return 'Envoy not installed: run scripts/install-envoy.sh (or set ENVOY_BIN)'
}

/** `envoy --mode validate` on a file: resolves with Envoy's own verdict and output. */
export function validateEnvoyConfig(file: string): { ok: boolean; output: string } {
  const bin = findEnvoy()
  if (bin === undefined) throw new Error('Envoy is not installed')
  const run = spawnSync(bin, ['--mode', 'validate', '-c', file, '-l', 'warn'], {
    encoding: 'utf8',
  })
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` }
}

export interface RunningEnvoy {
  /** `http://127.0.0.1:<port>` of the first listener. */
  readonly base: string
  /** Every listener's bound port, by listener name. */
  readonly ports: ReadonlyMap<string, number>
  /** `http://127.0.0.1:<port>` of the admin interface. */
  readonly admin: string
  /** Lines Envoy wrote on stdout (the stdout access loggers), parsed as JSON when they are. */
  accessLog(): unknown[]
  /** Resolves with the first access log entry (from now on) that `match` accepts. */
  nextAccessLog(
    match: (entry: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>
  /** Everything Envoy wrote on stderr (its own log). */
  log(): string
  /** Polls the admin API until `host` of `cluster` has (or has not) failed its health check. */
  waitForHealth(cluster: string, healthy: boolean): Promise<void>
  /** One admin stat's value (`/stats?filter=`), undefined when absent. */
  stat(name: string): Promise<number | undefined>
  stop(): Promise<void>
}

/**
 * Runs the real Envoy binary on `yaml` as the suite needs it: no hot restart (so several can
 * run at once), one worker thread, admin on a loopback port, and whatever ports the YAML asks
 * for (0 picks free ones; they are read back from the admin API). Resolves once Envoy is
 * LIVE, i.e. its clusters have initialized (health-checked ones after their first check).
 */
export async function startEnvoy(yaml: string, label = 'envoy'): Promise<RunningEnvoy> {
  const bin = findEnvoy()
  if (bin === undefined) throw new Error('Envoy is not installed: run scripts/install-envoy.sh')
  const dir = tempDir(label)
  const config = join(dir, 'envoy.yaml')
  const adminFile = join(dir, 'admin-address')
  writeFileSync(config, yaml)
  const proc = spawn(
    bin,
    [
      '-c',
      config,
      '--disable-hot-restart',
      '--concurrency',
      '1',
      '--admin-address-path',
      adminFile,
      '--log-level',
      'warn',
      '--drain-time-s',
      '0',
      // Access log lines otherwise reach stdout up to 10 s late (Envoy's default flush).
      '--file-flush-interval-msec',
      '20',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let err = ''
  let out = ''
  const entries: unknown[] = []
  const waiters = new Set<(entry: Record<string, unknown>) => boolean>()
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    let nl: number
    while ((nl = out.indexOf('\n')) !== -1) {
      const line = out.slice(0, nl)
      out = out.slice(nl + 1)
      const entry = parseLine(line)
      entries.push(entry)
      if (typeof entry === 'object' && entry !== null)
        for (const waiter of waiters)
          if (waiter(entry as Record<string, unknown>)) waiters.delete(waiter)
    }
  })
  const exited = once(proc, 'exit')
  const admin = await waitForAdmin(
    adminFile,
    () => proc.exitCode !== null,
    () => err,
  )
  await waitUntilLive(
    admin,
    () => proc.exitCode !== null,
    () => err,
  )
  const ports = await listenerPorts(admin)
  const first = ports.values().next().value
  return {
    base: `http://127.0.0.1:${first ?? 0}`,
    ports,
    admin,
    accessLog: () => [...entries],
    nextAccessLog: (match) =>
      new Promise((resolve) => {
        waiters.add((entry) => {
          if (!match(entry)) return false
          resolve(entry)
          return true
        })
      }),
    log: () => err,
    waitForHealth: (cluster, healthy) => waitForHealth(admin, cluster, healthy),
    stat: async (name) => {
      const text = await (await fetch(`${admin}/stats?filter=^${escapeRe(name)}$`)).text()
      const m = /: (\d+)\s*$/.exec(text.trim())
      return m === null ? undefined : Number(m[1])
    },
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        await exited
      }
      removeTempDir(dir)
    },
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line)
  } catch {
    return line
  }
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Envoy writes its admin address to the file once it listens; wait for that (or an exit). */
function waitForAdmin(file: string, exited: () => boolean, log: () => string): Promise<string> {
  return pollUntil(
    'the admin address',
    async () => {
      const address = existsSync(file) ? readFileSync(file, 'utf8').trim() : ''
      return address === '' ? undefined : `http://${address}`
    },
    () => (exited() ? `envoy exited before its admin listened:\n${log()}` : undefined),
  )
}

function waitUntilLive(admin: string, exited: () => boolean, log: () => string): Promise<true> {
  return pollUntil(
    'envoy to be LIVE',
    async () => {
      const state = await fetch(`${admin}/ready`).then(
        (r) => r.text(),
        () => '',
      )
      return state.trim() === 'LIVE' ? true : undefined
    },
    () => (exited() ? `envoy exited before it was live:\n${log()}` : undefined),
  )
}

async function listenerPorts(admin: string): Promise<Map<string, number>> {
  const body = (await (await fetch(`${admin}/listeners?format=json`)).json()) as {
    listener_statuses?: {
      name: string
      local_address: { socket_address: { port_value: number } }
    }[]
  }
  return new Map(
    (body.listener_statuses ?? []).map((l) => [l.name, l.local_address.socket_address.port_value]),
  )
}

/** Health is Envoy's to report: `/clusters` lists `health_flags::/failed_active_hc` per host. */
async function waitForHealth(admin: string, cluster: string, healthy: boolean): Promise<void> {
  await pollUntil(`${cluster} to be ${healthy ? 'healthy' : 'unhealthy'}`, async () => {
    const text = await (await fetch(`${admin}/clusters`)).text()
    const flags = text
      .split('\n')
      .filter((line) => line.startsWith(`${cluster}::`) && line.includes('::health_flags::'))
    return flags.length > 0 && flags.every((l) => l.endsWith('::healthy') === healthy)
      ? true
      : undefined
  })
}

/** A backstop for a broken run, far above what a busy machine needs. */
const POLL_DEADLINE_MS = 60_000

/**
 * Polls state that only Envoy's admin API shows (Envoy pushes no events to us) until `probe`
 * gives a value, `failed` gives a reason, or the deadline passes.
 */
async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  failed: () => string | undefined = () => undefined,
): Promise<T> {
  const deadline = Date.now() + POLL_DEADLINE_MS
  let value: T | undefined
  await eventually(what, async () => {
    value = await probe()
    if (value !== undefined) return true
    const why = failed()
    if (why !== undefined) throw new Error(why)
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    return false
  })
  return value!
}
