// The upstream's view of the sampled requests (x-bench-sample: <sub>), which Envoy routes to
// the echo upstream: a set-up that authorizes must have put the provider key in the one
// authorization header, the caller's sub in x-user-id, and left no JWT anywhere; one that does
// not (Envoy alone) must pass the request on untouched; the fixed-allow baseline answers one
// captured allow for every token, so its x-user-id is that token's ('fixed'). A fast wrong
// answer fails the row here even though its status was 200.
import type { EchoedRequest, EchoUpstream } from '../../../test/helpers/echo-upstream.js'
import type { View } from './setups.js'

/** A JWT's first segment: base64url of '{"' — the start of every JOSE header. */
const JWT_START = 'eyJ'

function problem(seen: EchoedRequest, view: View, key: string): string | undefined {
  const h = seen.headers
  const sub = h['x-bench-sample']
  if (seen.path !== '/openai/v1/chat/completions') return `path ${seen.path}`
  if (view === 'untouched') {
    const auth = String(h.authorization ?? '')
    return auth.startsWith(`Bearer ${JWT_START}`) ? undefined : 'the token did not arrive'
  }
  if (h.authorization !== `Bearer ${key}`) return 'authorization is not the provider key alone'
  if (view === 'rewritten' && h['x-user-id'] !== sub) return `x-user-id is not ${String(sub)}`
  if (JSON.stringify(seen).includes(JWT_START)) return 'a JWT reached the upstream'
  return undefined
}

/**
 * Checks what reached the echo upstream since `from`: at least `answered` requests (every
 * sampled request answered 200 went through it), each as `view` expects. Returns the problems.
 */
export async function checkUpstream(
  echo: EchoUpstream,
  from: number,
  answered: number,
  view: View,
  key: string,
): Promise<{ checked: number; problems: string[] }> {
  // Echo writes its line before it answers; the line may still be in the pipe to this process.
  const deadline = Date.now() + 2000
  while (echo.seen.length - from < answered && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10))
  const seen = echo.seen.slice(from)
  const problems = seen.flatMap((s) => problem(s, view, key) ?? [])
  if (seen.length < answered)
    problems.push(`${answered} sampled requests answered 200, ${seen.length} reached the upstream`)
  return { checked: seen.length, problems: [...new Set(problems)] }
}
