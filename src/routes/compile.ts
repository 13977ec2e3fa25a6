import type { RouteMatchConfig } from '../config/schema.js'
import { compileHostMatcher } from './host-matcher.js'
import type { RouteMatcher } from './match.js'
import { compilePathMatcher } from './path-matcher.js'

/** Builds a route's matcher once: regex compiled, methods upper-cased, hosts lower-cased. */
export function compileRouteMatcher(match: RouteMatchConfig): RouteMatcher {
  return Object.freeze({
    path: Object.freeze(compilePathMatcher(match)),
    methods: match.methods ? new Set(match.methods.map((m) => m.toUpperCase())) : null,
    hosts: match.hosts ? compileHostMatcher(match.hosts) : null,
    contextExtensions: Object.freeze(
      Object.entries(match.contextExtensions ?? {}).map(([k, v]) => Object.freeze([k, v] as const)),
    ),
  })
}
