// Reads what `strace -f -ttt -xx` saw an authorizer's threads do on their sockets into HTTP/2
// events: when each Check's request completed (the read holding its END_STREAM DATA frame),
// when its response HEADERS, DATA and trailers were written, how many Checks one read carried
// and how many answers one write, and each wait of an event loop (epoll_wait: one a turn).
import { readFileSync } from 'node:fs'

/** One socket syscall that carried HTTP/2 frames, or an event-loop wait. */
export interface SysEvent {
  readonly t: number
  readonly pid: number
  readonly kind: 'in' | 'out' | 'wait'
  /** The socket (in, out). */
  readonly fd: number
  /** Streams whose request completed (in) or whose answer completed, trailers sent (out). */
  readonly completed: readonly number[]
  /** Streams whose response HEADERS (without END_STREAM) or DATA this write carried. */
  readonly started: readonly number[]
}

const IN = /^(read|readv|recvmsg|recvfrom)$/
const OUT = /^(write|writev|sendmsg|sendto)$/
const WAIT = /^epoll_(p?wait2?)$/
const LINE = /^(\d+)\s+(\d+\.\d+) (?:<\.\.\. (\w+) resumed>(.*)|(\w+)\((.*))$/

/** strace lines joined where a thread's syscall was interrupted by another's (-f). */
function* syscalls(
  text: string,
): Generator<{ pid: number; t: number; name: string; rest: string }> {
  const pending = new Map<number, string>()
  for (const line of text.split('\n')) {
    const m = LINE.exec(line)
    if (m === null) continue
    const pid = Number(m[1])
    const t = Math.round(Number(m[2]) * 1e6)
    const name = m[3] ?? m[5]!
    let rest = m[4] ?? m[6]!
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(pid, rest.slice(0, -'<unfinished ...>'.length))
      continue
    }
    if (m[3] !== undefined) rest = (pending.get(pid) ?? '') + rest
    pending.delete(pid)
    yield { pid, t, name, rest }
  }
}

/** The bytes a syscall moved: its quoted buffers (-xx), cut at its return value. */
function payload(rest: string): Buffer | undefined {
  const ret = /\)\s+=\s+(-?\d+)/.exec(rest.slice(rest.lastIndexOf(')')))
  const n = ret === null ? -1 : Number(ret[1])
  if (n <= 0) return undefined
  const hex = [...rest.matchAll(/"((?:\\x[0-9a-f]{2})*)"/g)].map((q) => q[1]!.replaceAll('\\x', ''))
  return Buffer.from(hex.join(''), 'hex').subarray(0, n)
}

interface Frame {
  readonly type: number
  readonly flags: number
  readonly stream: number
}

/** Whole frames of `buf` after what `carry` kept of the last one; returns the new carry. */
function frames(carry: Buffer, buf: Buffer, out: Frame[]): Buffer {
  let data = carry.length > 0 ? Buffer.concat([carry, buf]) : buf
  // The client preface, when strace saw the connection open.
  if (data.subarray(0, 3).toString() === 'PRI') data = data.subarray(24)
  let at = 0
  while (data.length - at >= 9) {
    const length = data.readUIntBE(at, 3)
    const type = data[at + 3]!
    if (type > 9 || length > 1 << 24) return Buffer.alloc(0)
    if (data.length - at < 9 + length) break
    out.push({ type, flags: data[at + 4]!, stream: data.readUInt32BE(at + 5) & 0x7fffffff })
    at += 9 + length
  }
  return Buffer.from(data.subarray(at))
}

const DATA = 0
const HEADERS = 1
const END_STREAM = 1

function classify(kind: 'in' | 'out', list: readonly Frame[]) {
  const completed: number[] = []
  const started: number[] = []
  for (const f of list) {
    if (f.stream === 0 || (f.type !== DATA && f.type !== HEADERS)) continue
    const ends = (f.flags & END_STREAM) !== 0
    if (kind === 'in' ? ends : ends && f.type === HEADERS) completed.push(f.stream)
    else if (kind === 'out') started.push(f.stream)
  }
  return { completed, started }
}

/** Every HTTP/2-carrying socket syscall and every loop wait in an strace log, in order. */
export function readStrace(file: string): SysEvent[] {
  const carry = new Map<string, Buffer>()
  const events: SysEvent[] = []
  for (const { pid, t, name, rest } of syscalls(readFileSync(file, 'utf8'))) {
    if (WAIT.test(name)) {
      events.push({ t, pid, kind: 'wait', fd: -1, completed: [], started: [] })
      continue
    }
    const kind = IN.test(name) ? 'in' : OUT.test(name) ? 'out' : undefined
    const bytes = kind === undefined ? undefined : payload(rest)
    if (kind === undefined || bytes === undefined) continue
    const fd = Number(/^(\d+)/.exec(rest)?.[1] ?? -1)
    const key = `${fd}:${kind}`
    const list: Frame[] = []
    carry.set(key, frames(carry.get(key) ?? Buffer.alloc(0), bytes, list))
    const { completed, started } = classify(kind, list)
    if (completed.length + started.length > 0) events.push({ t, pid, kind, fd, completed, started })
  }
  return events.sort((a, b) => a.t - b.t)
}
