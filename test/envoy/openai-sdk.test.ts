import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { envoySkip } from '../helpers/envoy.js'
import { startEnvoyGateway, type EnvoyGateway } from '../helpers/envoy-gateway.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import {
  startOpenAiCompatible,
  STREAMED_WORDS,
  type OpenAiCompatibleProvider,
} from '../helpers/openai-provider.js'
import { openaiSdkSkip, OPENAI_SDK_VERSION, runSdk, type SdkLine } from '../helpers/openai-sdk.js'
import { DEMO_ENV } from '../helpers/server.js'

/**
 * The official OpenAI Python SDK as a newcomer points it at the gateway
 * (`base_url=http://gateway/openai/v1`, `api_key=<their JWT>`), through the real Envoy as
 * shipped, in front of a provider as strict as api.openai.com about paths and keys: the
 * OpenAI and Mistral clusters go to it, llm_d stays on the echo upstream (markers).
 */
const skip = envoySkip() || openaiSdkSkip()
const KEYS = [DEMO_ENV.OPENAI_API_KEY, DEMO_ENV.MISTRAL_API_KEY]
const FORGED = `${ALICE_TOKEN.slice(0, -6)}AAAAAA`

function only(lines: SdkLine[], event: string): SdkLine {
  const found = lines.filter((l) => l.event === event)
  assert.equal(found.length, 1, `one ${event} line in ${JSON.stringify(lines)}`)
  return found[0]!
}

function sdkScenarios(envoyFile: string): void {
  describe(`openai ${OPENAI_SDK_VERSION} (Python) through ${envoyFile}`, { skip }, () => {
    let provider: OpenAiCompatibleProvider
    let gw: EnvoyGateway
    let openai: string
    before(async () => {
      provider = await startOpenAiCompatible(KEYS)
      const at = `127.0.0.1:${provider.port}`
      gw = await startEnvoyGateway({ envoyFile, clusters: { openai: at, mistralai: at } })
      openai = `${gw.envoy.base}/openai/v1`
    })
    after(async () => {
      await gw?.stop()
      await provider?.stop()
    })

    test('the provider is strict: the gateway prefix left on the path is a 404 there', async () => {
      const direct = `http://127.0.0.1:${provider.port}/openai/v1`
      const lines = await runSdk(direct, DEMO_ENV.OPENAI_API_KEY, 'chat')
      assert.deepEqual(only(lines, 'error').error, 'NotFoundError')
      const keyless = await runSdk(`http://127.0.0.1:${provider.port}/v1`, ALICE_TOKEN, 'chat')
      assert.equal(only(keyless, 'error').error, 'AuthenticationError')
    })

    test('chat completions: Alice gets the answer; the provider got /v1/... and its key', async () => {
      const seen = provider.seen.length
      const lines = await runSdk(openai, ALICE_TOKEN, 'chat')
      assert.equal(only(lines, 'chat').content, STREAMED_WORDS.join(''))
      const got = provider.seen.slice(seen)
      assert.deepEqual(
        got.map((r) => [r.method, r.path, r.authorization, r.status]),
        [['POST', '/v1/chat/completions', `Bearer ${DEMO_ENV.OPENAI_API_KEY}`, 200]],
      )
    })

    test('streaming: every chunk reaches the SDK as the provider sends it, usage last', async () => {
      const waitsBefore = provider.chunkWaits.length
      const lines = await runSdk(openai, ALICE_TOKEN, 'stream', undefined, (line) => {
        if (line.event === 'chunk') provider.chunkSeen()
      })
      const chunks = lines.filter((l) => l.event === 'chunk').map((l) => l.content)
      assert.deepEqual(chunks, STREAMED_WORDS)
      // Each chunk after the first left the provider only once the SDK had yielded the one
      // before: nothing between them (Envoy, ext_authz) held the stream back.
      assert.deepEqual(
        provider.chunkWaits.slice(waitsBefore),
        STREAMED_WORDS.slice(1).map(() => true),
      )
      assert.equal(only(lines, 'usage').total_tokens, 15)
      assert.equal(lines.at(-1)?.event, 'done')
    })

    test('the Responses API and the model list reach /v1/responses and /v1/models', async () => {
      const seen = provider.seen.length
      const responses = await runSdk(openai, ALICE_TOKEN, 'responses')
      assert.equal(only(responses, 'responses').output_text, STREAMED_WORDS.join(''))
      const models = await runSdk(openai, ALICE_TOKEN, 'models')
      assert.deepEqual(only(models, 'models').ids, ['gpt-3.5-turbo'])
      assert.deepEqual(
        provider.seen.slice(seen).map((r) => `${r.method} ${r.path} ${r.status}`),
        ['POST /v1/responses 200', 'GET /v1/models 200'],
      )
    })

    test("Bob on /openai: the SDK's PermissionDeniedError, and nothing reaches the provider", async () => {
      const seen = provider.seen.length
      const lines = await runSdk(openai, BOB_TOKEN, 'chat')
      const error = only(lines, 'error')
      assert.equal(error.error, 'PermissionDeniedError')
      assert.equal(error.status, 403)
      assert.equal(provider.seen.length, seen)
    })

    test('Bob on /mistralai: allowed, the Mistral key at /v1/chat/completions', async () => {
      const seen = provider.seen.length
      const lines = await runSdk(`${gw.envoy.base}/mistralai/v1`, BOB_TOKEN, 'chat')
      assert.equal(only(lines, 'chat').content, STREAMED_WORDS.join(''))
      const got = provider.seen.slice(seen)
      assert.deepEqual(
        got.map((r) => [r.path, r.authorization]),
        [['/v1/chat/completions', `Bearer ${DEMO_ENV.MISTRAL_API_KEY}`]],
      )
    })

    test("a forged token: the SDK's AuthenticationError, and nothing reaches the provider", async () => {
      const seen = provider.seen.length
      for (const scenario of ['chat', 'stream', 'responses']) {
        const error = only(await runSdk(openai, FORGED, scenario), 'error')
        assert.equal(error.error, 'AuthenticationError', scenario)
        assert.equal(error.status, 401)
      }
      assert.equal(provider.seen.length, seen)
    })
  })
}

sdkScenarios('envoy/envoy.yaml')
sdkScenarios('envoy/envoy-http.yaml')

describe('openai (Python) through envoy/envoy.yaml, examples/model-aware.yaml', { skip }, () => {
  let provider: OpenAiCompatibleProvider
  let gw: EnvoyGateway
  before(async () => {
    provider = await startOpenAiCompatible(KEYS)
    const at = `127.0.0.1:${provider.port}`
    gw = await startEnvoyGateway({
      envoyFile: 'envoy/envoy.yaml',
      config: 'examples/model-aware.yaml',
      clusters: { openai: at, mistralai: at },
    })
  })
  after(async () => {
    await gw?.stop()
    await provider?.stop()
  })

  test('a model her token lists streams; another is a PermissionDeniedError that says why', async () => {
    const openai = `${gw.envoy.base}/openai/v1`
    const allowed = await runSdk(openai, ALICE_TOKEN, 'stream', 'gpt-3.5-turbo', (line) => {
      if (line.event === 'chunk') provider.chunkSeen()
    })
    assert.equal(allowed.filter((l) => l.event === 'chunk').length, STREAMED_WORDS.length)
    const seen = provider.seen.length
    const error = only(await runSdk(openai, ALICE_TOKEN, 'chat', 'gpt-4o-mini'), 'error')
    assert.equal(error.error, 'PermissionDeniedError')
    assert.equal(error.code, 'rbac_denied')
    // What the SDK shows its user: our message, taken from OpenAI's error JSON.
    assert.equal(
      error.message,
      'Error code: 403 - gpt-4o-mini is not allowed by llms.openai; allowed: gpt-3.5-turbo',
    )
    assert.equal(provider.seen.length, seen)
  })
})
