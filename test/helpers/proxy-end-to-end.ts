import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { freePort, gatewayScenarios, waitUntilAnswering } from './gateway-scenarios.js'
import { startRecordingUpstream } from './recording-upstream.js'
import { DEMO_ENV } from './server.js'
import { startServeProcess, type ServeProcess } from './serve-process.js'
import { tempDir } from './temp-dir.js'

export interface ProxyUnderTest {
  /** How the tests name it, e.g. `nginx auth_request`. */
  readonly name: string
  /** The Debian package and binary (CI installs it; elsewhere a missing one skips). */
  readonly binary: string
  readonly versionArgs: readonly string[]
  /** The shipped config file, run as it is but for its addresses. */
  readonly configFile: string
  /** Points the shipped config's addresses at this test's ports; must not add or drop lines. */
  configure(shipped: string, at: { authz: string; upstream: number; listen: number }): string
  /** How to run it in the foreground with the config at `file`, any state kept in `dir`. */
  command(dir: string, file: string): { args: string[]; env?: NodeJS.ProcessEnv }
  /** Whether the shipped config copies the optional headers (X-User-Id, Content-Type). */
  readonly optionalHeaders: boolean
}

/**
 * Runs the real proxy with its shipped config in front of a real `jwt-ext-authz serve`
 * (HTTP listener, examples/llm-gateway.yaml) and a recording upstream, and the scenarios.
 */
export function proxyEndToEnd(proxy: ProxyUnderTest): void {
  const installed = spawnSync(proxy.binary, [...proxy.versionArgs]).error === undefined
  const skip =
    installed || process.env.CI
      ? false
      : `${proxy.binary} not installed (apt-get install ${proxy.binary})`
  let service: ServeProcess | undefined
  let upstream: Awaited<ReturnType<typeof startRecordingUpstream>> | undefined
  let child: ChildProcess | undefined
  let log = ''
  let base = ''

  before(async () => {
    if (skip) return
    service = await startServeProcess(['--config', 'examples/llm-gateway.yaml'], DEMO_ENV)
    upstream = await startRecordingUpstream()
    const listen = await freePort()
    const shipped = readFileSync(proxy.configFile, 'utf8')
    const authz = service.httpAuthz.replace('http://', '')
    const conf = proxy.configure(shipped, { authz, upstream: upstream.port, listen })
    assert.equal(conf.split('\n').length, shipped.split('\n').length)
    assert.ok(conf.includes(authz) && conf.includes(String(listen)), 'every address replaced')
    const dir = tempDir(`${proxy.binary}`)
    const file = join(dir, 'config')
    writeFileSync(file, conf)
    const { args, env } = proxy.command(dir, file)
    child = spawn(proxy.binary, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: env ?? process.env,
    })
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()))
    base = `http://127.0.0.1:${listen}`
    await waitUntilAnswering(base, () => log, child)
  })

  after(async () => {
    child?.kill('SIGTERM')
    await upstream?.close()
    await service?.stop()
  })

  gatewayScenarios(proxy.name, () => ({ base, seen: upstream!.seen, log: () => log }), skip, {
    optionalHeaders: proxy.optionalHeaders,
  })
}
