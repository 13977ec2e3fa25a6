# OPA-Envoy's side of `npm run bench:envoy`: the rule jwt-ext-authz applies to /openai in
# examples/llm-gateway.yaml, written as an OPA-Envoy user would write it. The token is verified
# with io.jwt.decode_verify against data.bench.jwks (the seed key, and the cold-row key with
# its kid) and the seed issuer; llms.openai must list gpt-3.5-turbo; on allow the provider key
# replaces the caller's token upstream and sub goes to x-user-id. Denials answer as ours do:
# 401 for a missing or bad token, 403 "RBAC: access denied" for claims that do not allow.
package envoy.authz

import rego.v1

bearer := substring(input.attributes.request.http.headers.authorization, 7, -1) if {
	startswith(input.attributes.request.http.headers.authorization, "Bearer ")
}

verified := [valid, payload] if {
	[valid, _, payload] := io.jwt.decode_verify(bearer, {"cert": data.bench.jwks, "iss": "solo.io"})
}

valid_token if verified[0]

permitted if {
	valid_token
	startswith(input.attributes.request.http.path, "/openai")
	"gpt-3.5-turbo" in verified[1].llms.openai
}

default allow := {"allowed": false, "http_status": 401, "body": "Jwt verification fails"}

allow := {
	"allowed": true,
	"headers": {
		"authorization": concat("", ["Bearer ", data.bench.openai_key]),
		"x-user-id": verified[1].sub,
	},
} if permitted

allow := {"allowed": false, "http_status": 403, "body": "RBAC: access denied"} if {
	valid_token
	not permitted
}
