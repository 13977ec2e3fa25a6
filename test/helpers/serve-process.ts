import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { MAIN } from './main-command.js'

export interface ServeProcess {
  readonly proc: ChildProcessWithoutNullStreams
  /** host:port of the gRPC Check server. */
  readonly grpc: string
  /** http://host:port of the ops server. */
  readonly http: string
  /** http://host:port of the HTTP authorization listener. */
  readonly httpAuthz: string
  /** Everything the process wrote to stderr (its JSON logs). */
  readonly stderr: () => string
  /** How many log lines the process has written: a mark to pass to `logLine`. */
  readonly logCount: () => number
  /**
   * The first JSON log line after the first `from` ones that `match` accepts, now or when
   * the process writes it: tests wait on what the process says it did, not on a clock.
   * Rejects if the process exits first.
   */
  logLine(match: (line: LogLine) => boolean, from?: number): Promise<LogLine>
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** One pino line of the process (`msg`, `level`, and whatever else it logged). */
export type LogLine = Readonly<Record<string, unknown>> & { readonly msg?: string }

/** Runs `jwt-ext-authz serve` as a real process on loopback ports chosen by the OS. */
export async function startServeProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const proc = spawn(
    process.execPath,
    [
      ...MAIN,
      'serve',
      '--grpc',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--http-authz',
      '127.0.0.1:0',
      ...args,
    ],
    {
      env: { ...process.env, ...env },
    },
  )
  let err = ''
  const lines = new LogLines()
  proc.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString()
    lines.feed(chunk.toString())
  })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve))
  // 'close', not 'exit': the last lines may still be in the pipe when the process exits.
  proc.once('close', (code) => lines.end(`serve exited ${code}`))
  const [grpc, httpAuthz, httpPort] = await new Promise<[string, string, string]>(
    (resolve, reject) => {
      let out = ''
      proc.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const m = /Check on (\S+) \(gRPC\)(?:, on (\S+) \(HTTP\))?, ops on \S+:(\d+) \(HTTP\)/.exec(
          out,
        )
        if (m) resolve([m[1]!, m[2] ?? '', m[3]!])
      })
      void exited.then((code) => reject(new Error(`serve exited ${code}: ${err}`)))
    },
  )
  return {
    proc,
    grpc,
    http: `http://127.0.0.1:${httpPort}`,
    httpAuthz: httpAuthz === '' ? '' : `http://${httpAuthz}`,
    stderr: () => err,
    logCount: () => lines.count,
    logLine: (match, from = 0) => lines.find(match, from),
    stop: (signal = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal)
      return exited
    },
  }
}

/** The process's stderr as parsed log lines, with waiters for lines yet to come. */
class LogLines {
  readonly #lines: LogLine[] = []
  #partial = ''
  #ended: string | undefined
  #waiters: {
    match: (l: LogLine) => boolean
    from: number
    resolve: (l: LogLine) => void
    reject: (e: Error) => void
  }[] = []

  get count(): number {
    return this.#lines.length
  }

  feed(text: string): void {
    const parts = (this.#partial + text).split('\n')
    this.#partial = parts.pop()!
    for (const part of parts) {
      let line: LogLine
      try {
        line = JSON.parse(part) as LogLine
      } catch {
        line = { msg: part }
      }
      this.#lines.push(line)
      for (const w of this.#waiters.filter((w) => this.#lines.length > w.from && w.match(line))) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  }

  end(why: string): void {
    this.#ended = why
    for (const w of this.#waiters.splice(0)) w.reject(new Error(`${why} before the log line came`))
  }

  find(match: (l: LogLine) => boolean, from: number): Promise<LogLine> {
    const found = this.#lines.slice(from).find(match)
    if (found !== undefined) return Promise.resolve(found)
    if (this.#ended !== undefined)
      return Promise.reject(new Error(`${this.#ended} before the log line came`))
    return new Promise((resolve, reject) => this.#waiters.push({ match, from, resolve, reject }))
  }
}
