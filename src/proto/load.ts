import {
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceDefinition,
} from '@grpc/grpc-js'
import { loadSync, type Options } from '@grpc/proto-loader'
import { join } from 'node:path'
import { packageRoot } from '../lib/package-root.js'

/**
 * snake_case keys as on the wire (`denied_response`), enums as numbers, int64 as strings,
 * no defaults filled in (an absent field stays undefined), oneofs named.
 */
export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: Number,
  defaults: false,
  oneofs: true,
}

let loaded: GrpcObject | undefined

function authPackage(): GrpcObject {
  if (loaded === undefined) {
    const definition = loadSync('envoy/service/auth/v3/external_auth.proto', {
      ...LOADER_OPTIONS,
      includeDirs: [protosDir()],
    })
    loaded = loadPackageDefinition(definition)
  }
  return loaded
}

export function protosDir(): string {
  return join(packageRoot(), 'protos')
}

function authorizationClient(): ServiceClientConstructor {
  const envoy = authPackage().envoy as GrpcObject
  const auth = ((envoy.service as GrpcObject).auth as GrpcObject).v3 as GrpcObject
  return auth.Authorization as ServiceClientConstructor
}

/** The grpc-js service definition of envoy.service.auth.v3.Authorization (server side). */
export function loadAuthorizationService(): ServiceDefinition {
  return authorizationClient().service
}

/** The generated client constructor (the `check` CLI and tests). */
export function loadAuthorizationClient(): ServiceClientConstructor {
  return authorizationClient()
}
