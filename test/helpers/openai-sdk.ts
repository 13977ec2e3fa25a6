import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/** The SDK version scripts/python-requirements.txt pins. */
export const OPENAI_SDK_VERSION = /^openai==(\S+)$/m.exec(
  readFileSync('scripts/python-requirements.txt', 'utf8'),
)![1]!

const PYTHON = resolve('.venv/bin/python')
const CLIENT = 'test/sdk/openai_client.py'

/** One line the SDK client printed (test/sdk/openai_client.py). */
export type SdkLine = Readonly<Record<string, unknown>> & { readonly event: string }

/**
 * `skip` for node:test: false when .venv's Python has the pinned SDK. In CI a missing SDK
 * fails the run; elsewhere the reason names the command that installs it.
 */
export function openaiSdkSkip(): string | false {
  const found = existsSync(PYTHON)
    ? spawnSync(PYTHON, ['-c', 'import openai; print(openai.__version__)'], { encoding: 'utf8' })
    : undefined
  const version = found?.status === 0 ? found.stdout.trim() : undefined
  if (version === OPENAI_SDK_VERSION) return false
  const why =
    version === undefined
      ? 'the OpenAI Python SDK is not installed'
      : `.venv has openai ${version}, not ${OPENAI_SDK_VERSION}`
  if (process.env.CI) throw new Error(`${why} in CI: run scripts/install-openai-sdk.sh`)
  return `${why}: run scripts/install-openai-sdk.sh`
}

/**
 * Runs the official SDK against `baseUrl` with `apiKey` (the caller's JWT) for one scenario;
 * `onLine` sees each line the moment the SDK reports it (a streamed chunk, say). Resolves
 * with every line once the client exits, rejects when it failed in a way it did not report.
 */
export function runSdk(
  baseUrl: string,
  apiKey: string,
  scenario: string,
  model?: string,
  onLine: (line: SdkLine) => void = () => {},
): Promise<SdkLine[]> {
  const args = [CLIENT, baseUrl, apiKey, scenario, ...(model === undefined ? [] : [model])]
  const proc = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: SdkLine[] = []
  let out = ''
  let err = ''
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    let nl: number
    while ((nl = out.indexOf('\n')) !== -1) {
      const line = JSON.parse(out.slice(0, nl)) as SdkLine
      out = out.slice(nl + 1)
      lines.push(line)
      onLine(line)
    }
  })
  return new Promise((resolvePromise, reject) => {
    proc.once('error', reject)
    proc.once('close', (code) => {
      if (code === 0) resolvePromise(lines)
      else reject(new Error(`the SDK client exited ${code}: ${err}`))
    })
  })
}
