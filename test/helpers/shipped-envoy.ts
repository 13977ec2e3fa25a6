import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { parse, stringify } from 'yaml'

/**
 * `host:port` as a shipped file names it (`jwt-ext-authz:9001`) -> where it is in this test:
 * `host:port`, or `unix:<path>` for a Unix socket (Envoy's `pipe` address). A key
 * `cluster:<name>` moves that cluster's endpoints alone (several clusters may share one
 * shipped address, as the LLM clusters share `echo:8080`).
 */
export type EndpointMap = Readonly<Record<string, string>>

export interface PointedConfig {
  readonly yaml: string
  /** One line per change, `<where>: <shipped> -> <test>`, for the test to report. */
  readonly changes: readonly string[]
}

/**
 * A shipped Envoy config (envoy/*.yaml) with only its addresses and ports changed: listeners
 * and the admin interface on 127.0.0.1 port 0 (Envoy picks free ports), every cluster
 * endpoint and `http_service` URI moved to where `endpoints` says. An address the map does not
 * name fails, so nothing shipped is left pointing at a compose hostname. The result is
 * compared leaf by leaf with the shipped file: only address, port and uri leaves may differ.
 */
export function pointShippedConfig(
  file: string,
  endpoints: EndpointMap,
  /** Where the listeners go (`npm run demo` keeps a port users can type). */
  listen = '127.0.0.1:0',
): PointedConfig {
  const shipped: unknown = parse(readFileSync(file, 'utf8'))
  const pointed = structuredClone(shipped)
  const changes: string[] = []
  rewrite(pointed, '', { endpoints, listen }, changes)
  const staticNow = resolveNoSockets(pointed, changes)
  const differing = differingLeaves(shipped, pointed, '')
  const unexpected = differing.filter(
    (path) => !/\.(address|port_value|uri|pipe\.path)$/.test(path) && !staticNow.includes(path),
  )
  assert.deepEqual(unexpected, [], `${file}: only addresses and ports may change`)
  return { yaml: stringify(pointed), changes }
}

/**
 * DNS resolves no socket path: a cluster moved to a Unix socket becomes STATIC (the one change
 * beyond addresses). Returns the `type` leaves changed.
 */
function resolveNoSockets(bootstrap: unknown, changes: string[]): string[] {
  const clusters =
    (bootstrap as { static_resources?: { clusters?: { name: string; type?: string }[] } })
      .static_resources?.clusters ?? []
  return clusters.flatMap((cluster, i) => {
    if (!JSON.stringify(cluster).includes('"pipe":') || cluster.type === undefined) return []
    changes.push(`static_resources.clusters[${cluster.name}].type: ${cluster.type} -> STATIC`)
    cluster.type = 'STATIC'
    return [`.static_resources.clusters.${i}.type`]
  })
}

interface Targets {
  readonly endpoints: EndpointMap
  readonly listen: string
}

function rewrite(node: unknown, path: string, to: Targets, changes: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((child, i) => rewrite(child, `${path}[${named(child) ?? i}]`, to, changes))
    return
  }
  if (typeof node !== 'object' || node === null) return
  const obj = node as Record<string, unknown>
  const socket = obj.socket_address as { address: string; port_value: number } | undefined
  if (socket !== undefined) {
    const shipped = `${socket.address}:${socket.port_value}`
    const cluster = /^static_resources\.clusters\[([^\]]+)\]/.exec(path)?.[1]
    const target =
      path === 'admin.address'
        ? '127.0.0.1:0'
        : /^static_resources\.listeners\[[^\]]+\]\.address$/.test(path)
          ? to.listen
          : (to.endpoints[`cluster:${cluster}`] ?? to.endpoints[shipped])
    if (target === undefined) throw new Error(`${path}: no test address for ${shipped}`)
    if (target.startsWith('unix:')) {
      delete obj.socket_address
      obj.pipe = { path: target.slice('unix:'.length) }
    } else {
      const [host, port] = splitHostPort(target)
      socket.address = host
      socket.port_value = port
    }
    changes.push(`${path}: ${shipped} -> ${target}`)
  }
  if (typeof obj.uri === 'string') {
    const m = /^(https?:\/\/)([^/]+)(.*)$/.exec(obj.uri)
    const target = m === null ? undefined : to.endpoints[m[2]!]
    if (m === null || target === undefined)
      throw new Error(`${path}.uri: no test address for ${obj.uri}`)
    changes.push(`${path}.uri: ${obj.uri} -> ${m[1]}${target}${m[3]}`)
    obj.uri = `${m[1]}${target}${m[3]}`
  }
  for (const [key, child] of Object.entries(obj)) {
    if (key !== 'socket_address') rewrite(child, path === '' ? key : `${path}.${key}`, to, changes)
  }
}

/** Listeners and clusters are named in paths by their `name`, as Envoy's admin names them. */
function named(node: unknown): string | undefined {
  const name = (node as { name?: unknown } | null)?.name
  return typeof name === 'string' ? name : undefined
}

function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':')
  return [address.slice(0, colon), Number(address.slice(colon + 1))]
}

/** Paths of the leaves that differ; a subtree on one side only counts by its leaves. */
function differingLeaves(a: unknown, b: unknown, path: string): string[] {
  const isObject = (v: unknown) => typeof v === 'object' && v !== null
  if (isObject(a) && b === undefined) return differingLeaves(a, {}, path)
  if (a === undefined && isObject(b)) return differingLeaves({}, b, path)
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null)
    return Object.is(a, b) ? [] : [path]
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  return [...keys].flatMap((key) =>
    differingLeaves(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${path}.${key}`,
    ),
  )
}
