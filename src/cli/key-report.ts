import type { JWTPayload } from 'jose'
import type { CompiledRoute, Engine } from '../engine/engine.js'
import { chooseKey, type KeyChoice, type KeyTarget } from '../secrets/choose-key.js'
import type { SecretStore } from '../secrets/store.js'

/*
 * What `validate` says about provider keys: for each route that injects one, how its key is
 * chosen, and with `--claim`, which key those claims get. Ids and names only, never a value.
 */

/** `openai: authorization by claim team: dev -> openai-dev, ...; otherwise denied (no_provider_key)` */
export function describeRouteKeys(engine: Engine): string[] {
  return engine.routes.flatMap((route) => {
    const h = route.upstream.keyHeader
    if (h?.kind !== 'secret') return []
    const meta = route.upstream.credentialMetadataKey
    const extra = meta === undefined ? '' : `; also in dynamic_metadata ${meta}`
    return [`${route.name}: ${h.name} ${describeChoice(h.choice, engine.secrets)}${extra}`]
  })
}

function describeChoice(choice: KeyChoice, secrets: SecretStore): string {
  if (choice.kind === 'named') return `from ${describeTarget(choice.target, secrets)}`
  const entries = [...choice.map].map(([v, t]) => `${v} -> ${describeTarget(t, secrets)}`)
  const otherwise =
    choice.fallback === undefined
      ? 'denied (no_provider_key)'
      : describeTarget(choice.fallback, secrets)
  return `by claim ${choice.claim}: ${entries.join(', ')}; otherwise ${otherwise}`
}

function describeTarget(target: KeyTarget, secrets: SecretStore): string {
  const keys = secrets.keys(target.secret)
  const headers =
    target.headers.length === 0 ? '' : ` + ${target.headers.map((h) => h.name).join(', ')}`
  if (keys?.kind !== 'pool') return `${target.secret}${headers}`
  const members = keys.keys.map((k) => `${k.id} (weight ${k.weight})`).join(', ')
  return `pool ${target.secret} by ${keys.by.join('.')}: ${members}${headers}`
}

/** `openai: key openai-dev` / `openai: denied (no_provider_key)` for one set of claims. */
export function routeKeysFor(engine: Engine, claims: JWTPayload): string[] {
  return engine.routes.flatMap((route: CompiledRoute) => {
    const h = route.upstream.keyHeader
    if (h?.kind !== 'secret') return []
    const chosen = chooseKey(h.choice, route.anonymous ? undefined : claims, engine.secrets)
    const headers = chosen?.headers.map((x) => `${x.name}: ${x.value}`).join(', ') ?? ''
    if (chosen === undefined) return [`${route.name}: denied (no_provider_key)`]
    return [`${route.name}: key ${chosen.key.id}${headers === '' ? '' : ` with ${headers}`}`]
  })
}
