// Scratch: start set-ups and hold them until SIGINT, printing where they listen.
import { startEchoUpstream } from '../../../test/helpers/echo-upstream.js'
import { startSetUp, FIXED, type SetUp, type SetUpName } from './setups.js'
import { benchKeys } from './tokens.js'
const names = (process.argv[2] ?? 'envoy').split(',') as SetUpName[]
process.env.OPENAI_API_KEY = 'bench-openai-key'
const keys = await benchKeys(10)
const echo = await startEchoUpstream()
const ups: SetUp[] = []
const ours = await startSetUp('ours', { keys, openaiKey: 'bench-openai-key', echoPort: echo.port })
ups.push(ours)
for (const n of names.filter((x) => x !== 'ours')) {
  const ctx = { keys, openaiKey: 'bench-openai-key', echoPort: echo.port, ...(FIXED.has(n) && { baselineAnswer: ours.hotAnswer! }) }
  ups.push(await startSetUp(n, ctx))
}
for (const u of ups) console.log(u.name, u.envoy.base, u.envoy.admin, 'envoy', u.envoyPid, 'authz', u.authz?.pid, u.authz?.port)
console.log('TOKEN', keys.hot[0]!.token)
process.once('SIGINT', async () => { for (const u of ups) await u.stop(); await echo.stop(); process.exit(0) })
setInterval(() => {}, 1e9)
