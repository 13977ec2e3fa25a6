import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What reached the provider: the path it served and the key it was sent. */
export interface ProviderRequest {
  readonly method: string
  readonly path: string
  readonly authorization: string | undefined
  readonly status: number
}

export interface OpenAiCompatibleProvider {
  readonly port: number
  readonly seen: readonly ProviderRequest[]
  /**
   * How each streamed chunk after the first left: `true` when the client had reported the one
   * before (so nothing on the way held it back), `false` when the wait for that report ran out.
   */
  readonly chunkWaits: readonly boolean[]
  /** The client reports one more streamed chunk received; the next may leave. */
  chunkSeen(): void
  stop(): Promise<void>
}

/** The paths the real OpenAI API (and Mistral's, which copies it) serves, by method. */
const SERVED: Readonly<Record<string, RegExp>> = {
  GET: /^\/v1\/models(\/[^/]+)?$/,
  POST: /^\/v1\/(chat\/completions|completions|embeddings|responses)$/,
}

/** A stalled stream fails the test instead of hanging it: far above any loaded machine's lag. */
const CHUNK_WAIT_MS = 20_000
export const STREAMED_WORDS = ['Roses', ' are', ' red,', ' keys', ' stay', ' hidden.']

/**
 * An OpenAI-compatible provider on loopback that is as strict as the real one where a gateway
 * can go wrong: 404 (OpenAI's "Invalid URL" error) for any path the API does not serve — e.g.
 * one that still carries the gateway's `/openai` prefix — and 401 (`invalid_api_key`) unless
 * `Authorization` is exactly `Bearer <one of keys>`. It answers chat completions (plain and
 * streamed as server-sent events), the Responses API and the model list with the shapes the
 * official SDKs parse. A streamed chunk leaves only once the client reported the previous one.
 */
export async function startOpenAiCompatible(
  keys: readonly string[],
): Promise<OpenAiCompatibleProvider> {
  const seen: ProviderRequest[] = []
  const chunkWaits: boolean[] = []
  let reported = 0
  const waiting = new Set<() => void>()
  const server = createServer((req, res) => {
    void readJson(req).then((body) => {
      const status = answer(req, res, body)
      seen.push({ method: req.method ?? '', path: req.url ?? '', authorization: auth(req), status })
    })
  })

  function answer(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) {
    const path = (req.url ?? '/').split('?')[0]!
    if (!SERVED[req.method ?? '']?.test(path))
      return error(res, 404, `Invalid URL (${req.method} ${req.url})`, null)
    if (req.headers.authorization === undefined || !keys.some((k) => auth(req) === `Bearer ${k}`))
      return error(res, 401, 'Incorrect API key provided.', 'invalid_api_key')
    const model = typeof body.model === 'string' ? body.model : 'gpt-3.5-turbo'
    if (path === '/v1/models') return json(res, { object: 'list', data: [modelEntry(model)] })
    if (path === '/v1/responses') return json(res, responseObject(model))
    if (path === '/v1/chat/completions' && body.stream === true) {
      void stream(res, model)
      return 200
    }
    return json(res, chatCompletion(model))
  }

  async function stream(res: ServerResponse, model: string): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    const sentBefore = reported
    for (const [i, word] of STREAMED_WORDS.entries()) {
      if (i > 0) chunkWaits.push(await reportedAtLeast(sentBefore + i))
      res.write(`data: ${JSON.stringify(chunk(model, { content: word }, null))}\n\n`)
    }
    res.write(`data: ${JSON.stringify(chunk(model, {}, 'stop'))}\n\n`)
    res.write(
      `data: ${JSON.stringify({ ...chunk(model, {}, null), choices: [], usage: USAGE })}\n\n`,
    )
    res.end('data: [DONE]\n\n')
  }

  function reportedAtLeast(count: number): Promise<boolean> {
    if (reported >= count) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(check)
        resolve(false)
      }, CHUNK_WAIT_MS)
      const check = (): void => {
        if (reported < count) return
        clearTimeout(timer)
        waiting.delete(check)
        resolve(true)
      }
      waiting.add(check)
    })
  }

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    chunkWaits,
    chunkSeen: () => {
      reported++
      for (const check of waiting) check()
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function auth(req: IncomingMessage): string | undefined {
  return req.headers.authorization
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString() || '{}')
        resolve(
          typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {},
        )
      } catch {
        resolve({})
      }
    })
  })
}

function json(res: ServerResponse, body: unknown, status = 200): number {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
  return status
}

function error(res: ServerResponse, status: number, message: string, code: string | null) {
  return json(res, { error: { message, type: 'invalid_request_error', param: null, code } }, status)
}

const USAGE = { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 }
const CREATED = 1_765_000_000

function modelEntry(id: string) {
  return { id, object: 'model', created: CREATED, owned_by: 'openai' }
}

function chatCompletion(model: string) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: STREAMED_WORDS.join(''), refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: USAGE,
  }
}

function chunk(model: string, delta: Record<string, unknown>, finish: string | null) {
  return {
    id: 'chatcmpl-2',
    object: 'chat.completion.chunk',
    created: CREATED,
    model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  }
}

function responseObject(model: string) {
  const text = STREAMED_WORDS.join('')
  return {
    id: 'resp_1',
    object: 'response',
    created_at: CREATED,
    status: 'completed',
    model,
    output: [
      {
        type: 'message',
        id: 'msg_1',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [] }],
      },
    ],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    usage: {
      input_tokens: 9,
      output_tokens: 6,
      total_tokens: 15,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    },
  }
}
