import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'

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
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Runs `jwt-ext-authz serve` as a real process on loopback ports chosen by the OS. */
export async function startServeProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/main.ts',
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
  proc.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve))
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
    stop: (signal = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal)
      return exited
    },
  }
}
