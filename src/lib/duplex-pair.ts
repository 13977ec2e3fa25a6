import { Duplex } from 'node:stream'

/**
 * Two connected in-memory duplex streams: what one side writes, the other reads (Node 22.6+
 * has `stream.duplexPair`; Node 20 does not). Used to speak HTTP/2 to an in-process server
 * without a socket anyone else could reach.
 */
export function duplexPair(): [Duplex, Duplex] {
  const a = new PairSide()
  const b = new PairSide()
  a.peer = b
  b.peer = a
  return [a, b]
}

class PairSide extends Duplex {
  peer: PairSide | undefined
  #pendingWrite: (() => void) | undefined

  override _read(): void {
    // The peer waits for us to read before it writes more (backpressure).
    const peer = this.peer
    if (peer === undefined) return
    const resume = peer.#pendingWrite
    peer.#pendingWrite = undefined
    resume?.()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error) => void): void {
    const peer = this.peer
    if (peer === undefined || peer.destroyed) return done(new Error('the peer is closed'))
    if (peer.push(chunk)) done()
    else this.#pendingWrite = done
  }

  override _final(done: (err?: Error) => void): void {
    this.peer?.push(null)
    done()
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    const peer = this.peer
    this.peer = undefined
    this.#pendingWrite = undefined
    if (peer !== undefined && !peer.destroyed) peer.destroy()
    done(err)
  }
}
