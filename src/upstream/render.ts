import type { JWTPayload } from 'jose'
import type { HeaderToSet } from '../decision/decision.js'
import { readClaim } from '../rbac/claim-path.js'
import type { RequestValues, RequestValueSource } from '../request/request-value.js'
import { chooseKey } from '../secrets/choose-key.js'
import type { SecretStore } from '../secrets/store.js'
import { isHeaderValue } from '../lib/header-value.js'
import type { PlannedHeader, UpstreamPlan } from './plan.js'

/** Longer claim-derived values are dropped: upstreams and Envoy limit header sizes. */
const MAX_CLAIM_HEADER_BYTES = 8 * 1024

export interface RenderedUpstream {
  readonly set: readonly HeaderToSet[]
  readonly remove: readonly string[]
  readonly removeQuery: readonly string[]
  readonly tokenCookies: readonly string[]
  readonly tokenHeaders: readonly string[]
  /** The id of the route's key (see UpstreamPlan.keyHeader): safe to log and label with. */
  readonly keyId: string | undefined
  /** The route's key itself, only when `credentialMetadata` asks for it in dynamic_metadata. */
  readonly credential: { readonly key: string; readonly value: string } | undefined
}

/**
 * Renders a route's upstream plan for one allowed request. A claim header whose claim is
 * absent (or not representable in a header) is removed instead of set, so a caller cannot
 * supply its own `x-user-id` by leaving the claim out of the token. Undefined when a key
 * cannot be chosen for these claims (see chooseKey): the request is then denied.
 */
export function renderUpstream(
  plan: UpstreamPlan,
  claims: JWTPayload | undefined,
  secrets: SecretStore,
  values?: RequestValues,
): RenderedUpstream | undefined {
  const set: HeaderToSet[] = []
  const routeKey: { id?: string; value?: string } = {}
  let remove = plan.remove
  for (const h of plan.headers) {
    if (h.kind === 'value') {
      set.push(h.header)
      continue
    }
    if (h.kind === 'secret') {
      if (!setKey(h, claims, secrets, set, h === plan.keyHeader ? routeKey : undefined))
        return undefined
      continue
    }
    const value = h.kind === 'claim' ? claimValue(claims, h.path) : requestValue(values, h.source)
    const prefix = h.kind === 'claim' ? h.prefix : ''
    if (value !== undefined) set.push({ name: h.name, value: prefix + value })
    else remove = remove === plan.remove ? [...plan.remove, h.name] : [...remove, h.name]
  }
  return {
    set,
    remove,
    removeQuery: plan.removeQuery,
    tokenCookies: plan.tokenCookies,
    tokenHeaders: plan.tokenHeaders,
    keyId: routeKey.id,
    credential:
      plan.credentialMetadataKey === undefined || routeKey.value === undefined
        ? undefined
        : { key: plan.credentialMetadataKey, value: routeKey.value },
  }
}

/** Sets a secret header and its key's headers; false when no key can be chosen. */
function setKey(
  h: Extract<PlannedHeader, { kind: 'secret' }>,
  claims: JWTPayload | undefined,
  secrets: SecretStore,
  set: HeaderToSet[],
  routeKey: { id?: string; value?: string } | undefined,
): boolean {
  const chosen = chooseKey(h.choice, claims, secrets)
  if (chosen === undefined) return false
  set.push({ name: h.name, value: h.prefix + chosen.key.value })
  for (const header of chosen.headers) set.push(header)
  if (routeKey !== undefined) {
    routeKey.id = chosen.key.id
    routeKey.value = chosen.key.value
  }
  return true
}

function claimValue(claims: JWTPayload | undefined, path: readonly string[]): string | undefined {
  return claims === undefined ? undefined : claimHeaderValue(readClaim(claims, path))
}

function requestValue(
  values: RequestValues | undefined,
  source: RequestValueSource,
): string | undefined {
  const read = values?.read(source)
  return read?.ok === true ? claimHeaderValue(read.value) : undefined
}

/**
 * Arrays are comma-joined (RFC 9110 list syntax) — what Envoy's claim_to_headers and Istio's
 * outputClaimToHeaders refuse to do (envoy#30072, istio#58433); objects become JSON.
 */
export function claimHeaderValue(claim: unknown): string | undefined {
  let text: string
  if (typeof claim === 'string') text = claim
  else if (typeof claim === 'number' || typeof claim === 'boolean') text = String(claim)
  else if (Array.isArray(claim))
    text = claim
      .map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)))
      .join(',')
  else if (typeof claim === 'object' && claim !== null) text = JSON.stringify(claim)
  else return undefined
  if (text.length > MAX_CLAIM_HEADER_BYTES || !isHeaderValue(text)) return undefined
  return text
}
