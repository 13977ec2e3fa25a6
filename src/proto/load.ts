import {
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceDefinition,
} from '@grpc/grpc-js'
import { loadSync, type Options } from '@grpc/proto-loader'
import { join } from 'node:path'
import protobuf from 'protobufjs'
import { packageRoot } from '../lib/package-root.js'
import type { CheckRequest, CheckResponse } from './types.js'

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

/** CheckResponse to protobuf bytes (what grpc-js would do with the object). */
export function encodeCheckResponse(response: CheckResponse): Buffer {
  serializeResponse ??= loadAuthorizationService().Check!.responseSerialize
  return serializeResponse(response)
}

let serializeResponse: ((response: CheckResponse) => Buffer) | undefined

let checkRequestType: protobuf.Type | undefined

/**
 * CheckRequest bytes decoded by protobufjs alone, without proto-loader's second pass that
 * copies the message into plain objects (its `toObject`, with int64 fields turned into
 * strings), a large share of the garbage decoding a request would make. Every
 * field we read reads the same; an unset one holds the proto3 default (from the message's
 * prototype: '', an empty map, null for a message), which `check/request.ts` treats as absent.
 */
export function decodeCheckRequest(bytes: Buffer): CheckRequest {
  if (checkRequestType === undefined) {
    const root = new protobuf.Root()
    root.resolvePath = (_origin, target) => join(protosDir(), target)
    root.loadSync('envoy/service/auth/v3/external_auth.proto', { keepCase: true })
    checkRequestType = root.lookupType('envoy.service.auth.v3.CheckRequest')
  }
  return checkRequestType.decode(bytes) as unknown as CheckRequest
}
