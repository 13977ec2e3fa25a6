import { status } from '@grpc/grpc-js'
import type { Allow, Deny, Decision } from '../decision/decision.js'
import { denial } from '../decision/denial.js'
import type { CheckResponse, HeaderValueOption } from '../proto/types.js'
import { toStruct } from '../proto/struct.js'
import type { AuthRequest } from '../request/auth-request.js'

/** envoy.config.core.v3.HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD */
const OVERWRITE_IF_EXISTS_OR_ADD = 2

/** Maps a decision to Envoy's CheckResponse; every deny, 401 included, in `denied_response`. */
export function toCheckResponse(decision: Decision, req: AuthRequest): CheckResponse {
  return decision.kind === 'allow' ? okResponse(decision) : deniedResponse(decision, req)
}

function okResponse(decision: Allow): CheckResponse {
  return {
    status: { code: status.OK, message: '' },
    ok_response: {
      headers: decision.set.map((h) => header(h.name, h.value)),
      headers_to_remove: [...decision.remove],
      ...(decision.removeQuery.length > 0
        ? { query_parameters_to_remove: [...decision.removeQuery] }
        : {}),
    },
    dynamic_metadata: toStruct(decision.metadata),
  }
}

function deniedResponse(decision: Deny, req: AuthRequest): CheckResponse {
  const d = denial(decision, req)
  return {
    // The gRPC message carries the stable reason id only (Envoy debug logs show it).
    status: { code: d.grpc, message: decision.reason },
    denied_response: {
      status: { code: d.http },
      headers: d.headers.map((h) => header(h.name, h.value)),
      body: d.body,
    },
  }
}

/** Both `append: false` and `append_action`: Envoy 1.37.0 duplicated headers when `append` was unset (envoy#43310). */
function header(key: string, value: string): HeaderValueOption {
  return {
    header: { key, value },
    append: { value: false },
    append_action: OVERWRITE_IF_EXISTS_OR_ADD,
  }
}
