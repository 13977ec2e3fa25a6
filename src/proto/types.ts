/**
 * The objects @grpc/proto-loader produces and accepts for our protos with LOADER_OPTIONS
 * (snake_case keys, enums as numbers). Request-side fields are all optional: a client may
 * send an empty message, and proto3 leaves unset fields out.
 */

export interface HeaderValue {
  key?: string
  value?: string
  raw_value?: Buffer | Uint8Array
}

export interface HeaderMap {
  headers?: HeaderValue[]
}

export interface SocketAddress {
  protocol?: number
  address?: string
  port_value?: number
  named_port?: string
}

export interface Peer {
  address?: { socket_address?: SocketAddress }
  service?: string
  labels?: Record<string, string>
  principal?: string
  certificate?: string
}

export interface HttpRequest {
  id?: string
  method?: string
  headers?: Record<string, string> | null
  header_map?: HeaderMap | null
  path?: string
  host?: string
  scheme?: string
  query?: string
  fragment?: string
  size?: string | number
  protocol?: string
  body?: string
  raw_body?: Buffer | Uint8Array
}

export interface AttributeContext {
  source?: Peer | null
  destination?: Peer | null
  request?: {
    time?: { seconds?: string | number; nanos?: number } | null
    http?: HttpRequest | null
  } | null
  context_extensions?: Record<string, string> | null
  tls_session?: { sni?: string } | null
}

export interface CheckRequest {
  attributes?: AttributeContext | null
}

export interface HeaderValueOption {
  header?: HeaderValue
  append?: { value?: boolean }
  /** HeaderAppendAction: 0 APPEND_IF_EXISTS_OR_ADD, 1 ADD_IF_ABSENT, 2 OVERWRITE_IF_EXISTS_OR_ADD, 3 OVERWRITE_IF_EXISTS */
  append_action?: number
  keep_empty_value?: boolean
}

export interface RpcStatus {
  code?: number
  message?: string
}

export interface DeniedHttpResponse {
  status?: { code?: number }
  headers?: HeaderValueOption[]
  body?: string
}

export interface OkHttpResponse {
  headers?: HeaderValueOption[]
  headers_to_remove?: string[]
  response_headers_to_add?: HeaderValueOption[]
  query_parameters_to_set?: { key?: string; value?: string }[]
  query_parameters_to_remove?: string[]
}

/**
 * google.protobuf.Value. protobufjs ships its own copy of the well-known types with camelCase
 * field names, so these stay camelCase even with keepCase.
 */
export interface StructValue {
  nullValue?: number
  numberValue?: number
  stringValue?: string
  boolValue?: boolean
  structValue?: Struct
  listValue?: { values?: StructValue[] }
  kind?: string
}

export interface Struct {
  fields?: Record<string, StructValue>
}

export interface CheckResponse {
  status?: RpcStatus
  denied_response?: DeniedHttpResponse
  ok_response?: OkHttpResponse
  dynamic_metadata?: Struct
  http_response?: string
}
