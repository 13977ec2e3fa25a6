// The kernel's own record of an authorizer's socket syscalls and event-loop waits (ftrace
// syscall tracepoints, in a trace instance of our own): microsecond timestamps on
// CLOCK_MONOTONIC, the clock of process.hrtime, with none of strace's per-syscall stops.
// Needs root and tracefs (/sys/kernel/tracing).
import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface KernelEvent {
  /** µs, CLOCK_MONOTONIC. */
  readonly t: number
  readonly tid: number
  readonly kind: 'in' | 'out' | 'wait'
  readonly fd: number
  /** Bytes moved (in, out) or events returned (wait). */
  readonly ret: number
}

const TRACEFS = '/sys/kernel/tracing'
const IN = ['read', 'readv', 'recvmsg', 'recvfrom']
const OUT = ['write', 'writev', 'sendmsg', 'sendto']
const WAIT = ['epoll_wait', 'epoll_pwait']

/** Every thread of a process. */
export function threadsOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map(Number)
}

/** Records the syscalls of `tids` for `seconds`. */
export async function ftrace(tids: readonly number[], seconds: number): Promise<KernelEvent[]> {
  const dir = join(TRACEFS, 'instances', `jwt-ext-authz-probe-${process.pid}`)
  mkdirSync(dir)
  try {
    const set = (file: string, value: string) => writeFileSync(join(dir, file), value)
    set('trace_clock', 'mono')
    set('buffer_size_kb', '32768')
    set('set_event_pid', tids.join(' '))
    for (const name of [...IN, ...OUT, ...WAIT])
      for (const edge of ['enter', 'exit']) set(`events/syscalls/sys_${edge}_${name}/enable`, '1')
    set('tracing_on', '1')
    await sleep(seconds * 1000)
    set('tracing_on', '0')
    return parse(readFileSync(join(dir, 'trace'), 'utf8'))
  } finally {
    writeFileSync(join(dir, 'events/enable'), '0')
    rmdirSync(dir)
  }
}

const LINE =
  /^\s*.+?-(\d+)\s+\[\d+\]\s+\S+\s+([\d.]+): sys_(\w+)(?:\(fd: (0x[0-9a-f]+)| -> (0x[0-9a-f]+))/

function kindOf(name: string): KernelEvent['kind'] | undefined {
  if (IN.includes(name)) return 'in'
  if (OUT.includes(name)) return 'out'
  return WAIT.includes(name) ? 'wait' : undefined
}

function parse(text: string): KernelEvent[] {
  const openFd = new Map<number, number>()
  const events: KernelEvent[] = []
  for (const line of text.split('\n')) {
    const m = LINE.exec(line)
    if (m === null) continue
    const tid = Number(m[1])
    const kind = kindOf(m[3]!)
    if (kind === undefined) continue
    if (m[4] !== undefined) {
      openFd.set(tid, Number(m[4]))
      continue
    }
    const ret = Number(BigInt.asIntN(64, BigInt(m[5]!)))
    const t = Math.round(Number(m[2]) * 1e6)
    events.push({ t, tid, kind, fd: openFd.get(tid) ?? -1, ret })
    openFd.delete(tid)
  }
  return events
}
