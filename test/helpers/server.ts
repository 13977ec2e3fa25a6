import { dirname, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { startCheckServer } from '../../src/check/server.js'
import { checkServiceDeps } from '../../src/check/service.js'
import { parseConfigText, loadConfigFile } from '../../src/config/load.js'
import { ConfigInvalidError } from '../../src/config/config-error.js'
import { validateConfig } from '../../src/config/validate.js'
import { compileEngine, type EngineDeps } from '../../src/engine/compile.js'
import type { Engine } from '../../src/engine/engine.js'
import { EngineHolder } from '../../src/engine/holder.js'
import { startHttpAuthzServer } from '../../src/http-authz/server.js'
import { createLogger } from '../../src/ops/log.js'
import { createMetrics, type Metrics } from '../../src/ops/metrics.js'
import { createCheckClient } from './check-client.js'

export interface TestServer {
  readonly address: string
  /** http://127.0.0.1:port of the HTTP authorization listener (same engine). */
  readonly httpAuthz: string
  readonly client: ReturnType<typeof createCheckClient>
  readonly metrics: Metrics
  /** Every log line the server wrote, for tests that grep the logs. */
  readonly logLines: string[]
  readonly engine: Engine
  close(): Promise<void>
}

export const DEMO_ENV = Object.freeze({
  OPENAI_API_KEY: 'sk-test-openai-0123456789',
  MISTRAL_API_KEY: 'test-mistral-key-abcdef',
  HF_API_TOKEN: 'hf_test_token_xyz',
})

/** Starts the real gRPC Check server on a loopback port with a config file or YAML text. */
export async function startTestServer(
  config: { file: string } | { yaml: string },
  env: Record<string, string> = DEMO_ENV,
  options: { keepLogs?: boolean; keySourceTime?: EngineDeps['keySourceTime'] } = {},
): Promise<TestServer> {
  const raw = 'file' in config ? loadConfigFile(config.file) : parseConfigText(config.yaml)
  const validated = validateConfig(raw)
  if (!validated.ok) throw new ConfigInvalidError(validated.errors)
  const baseDir = 'file' in config ? dirname(resolve(config.file)) : process.cwd()
  const metrics = createMetrics()
  const engine = compileEngine(validated.config, {
    env,
    baseDir,
    onTokenCache: metrics.countTokenCacheLookup,
    ...(options.keySourceTime ? { keySourceTime: options.keySourceTime } : {}),
  })
  const logLines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      // Floods would otherwise measure this array instead of the server.
      if (options.keepLogs !== false) logLines.push(chunk.toString())
      done()
    },
  })
  const deps = checkServiceDeps({
    holder: new EngineHolder(engine),
    metrics,
    log: createLogger('debug', sink),
  })
  const server = await startCheckServer('127.0.0.1:0', deps)
  const http = await startHttpAuthzServer('127.0.0.1:0', deps)
  const address = `127.0.0.1:${server.port}`
  const client = createCheckClient(address)
  return {
    address,
    httpAuthz: `http://127.0.0.1:${http.port}`,
    client,
    metrics,
    logLines,
    engine,
    close: async () => {
      client.close()
      for (const source of engine.keySources.values()) source.close?.()
      await Promise.all([server.close(), http.close()])
    },
  }
}
