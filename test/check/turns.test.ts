import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TurnQueue } from '../../src/check/turns.js'

/** Resolves in the check phase of the next event-loop turn. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))
/** Two turns: what the queue leaves between tasks (an answer's trailers leave in the first). */
const twoTurns = async () => {
  await nextTurn()
  await nextTurn()
}

test('the first task of an idle spell runs at once, each later one two event-loop turns after the one before', async () => {
  const queue = new TurnQueue()
  const ran: number[] = []
  for (const n of [1, 2, 3]) queue.run(() => ran.push(n))
  assert.deepEqual(ran, [1], 'the first at once')
  assert.equal(queue.pending, 2)
  await nextTurn()
  assert.deepEqual(ran, [1], 'not in the next turn: the answer of 1 is still being written')
  await nextTurn()
  assert.deepEqual(ran, [1, 2], 'one more two turns later')
  await twoTurns()
  assert.deepEqual(ran, [1, 2, 3])
  await twoTurns()
  queue.run(() => ran.push(4))
  assert.deepEqual(ran, [1, 2, 3, 4], 'idle again: at once')
})

test('a backlog is worked off a quarter at a time, at least one', async () => {
  const queue = new TurnQueue()
  const ran: number[] = []
  for (let i = 0; i < 13; i++) queue.run(() => ran.push(i))
  const perTurn: number[] = []
  while (queue.pending > 0) {
    const before = ran.length
    await twoTurns()
    perTurn.push(ran.length - before)
  }
  // 12 waiting: 3, then 9: 3, 6: 2, 4: 1, 3: 1, 2: 1, 1: 1.
  assert.deepEqual(perTurn, [3, 3, 2, 1, 1, 1, 1])
})

test('a task queued by a task waits for a later turn', async () => {
  const queue = new TurnQueue()
  const ran: string[] = []
  queue.run(() => {
    ran.push('a')
    queue.run(() => ran.push('b'))
  })
  assert.deepEqual(ran, ['a'])
  await twoTurns()
  assert.deepEqual(ran, ['a', 'b'])
})

test('a long queue runs every task once, in order, and keeps only what is left', async () => {
  const queue = new TurnQueue()
  const ran: number[] = []
  const n = 3000
  for (let i = 0; i < n; i++) queue.run(() => ran.push(i))
  while (queue.pending > 0) await nextTurn()
  assert.deepEqual(
    ran,
    Array.from({ length: n }, (_, i) => i),
  )
})
