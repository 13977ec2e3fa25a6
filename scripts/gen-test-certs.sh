#!/usr/bin/env bash
# Writes throw-away TLS material for the mutual-TLS tests into DIR (created if missing):
#
#   ca.crt                  the CA that listen.tls.clientCa trusts (and clients trust for us)
#   server.crt/.key         our server certificate: DNS localhost, jwt-ext-authz; IP 127.0.0.1
#   client.crt/.key         the gateway: URI SAN spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account
#   client-dns.crt/.key     a client with DNS SAN gateway.example.com
#   client-stranger.crt/.key  signed by ca.crt, another SPIFFE ID (spiffe://cluster.local/ns/default/sa/attacker)
#   client-smuggle.crt/.key   one URI SAN whose text contains ", URI:<the gateway's ID>"
#   other-ca.crt            a second CA; other-server.crt/.key and other-client.crt/.key are
#                           signed by it (a client from another CA; certificate rotation)
#
# Every key here is a test fixture: generate per test run (tests call this with a temp dir),
# never commit the output. ECDSA P-256, valid 2 days. Needs openssl >= 1.1.1.
set -euo pipefail
dir=${1:?usage: gen-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

GATEWAY_ID=spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

ca() { # name CN
  key "$1"
  openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 2 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

leaf() { # name ca CN extendedKeyUsage san-lines...
  local name=$1 issuer=$2 cn=$3 eku=$4
  shift 4
  key "$name"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    echo "subjectAltName=@sans"
    echo "[sans]"
    printf '%s\n' "$@"
  } >"$name.ext"
  openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA "$issuer.crt" -CAkey "$issuer.key" -CAcreateserial \
    -days 2 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

ca ca "jwt-ext-authz test CA"
ca other-ca "jwt-ext-authz other test CA"
leaf server ca jwt-ext-authz serverAuth "DNS.1=localhost" "DNS.2=jwt-ext-authz" "IP.1=127.0.0.1"
leaf client ca gateway clientAuth "URI.1=$GATEWAY_ID"
leaf client-dns ca gateway.example.com clientAuth "DNS.1=gateway.example.com"
leaf client-stranger ca attacker clientAuth "URI.1=spiffe://cluster.local/ns/default/sa/attacker"
leaf client-smuggle ca smuggler clientAuth "URI.1=spiffe://cluster.local/ns/default/sa/x, URI:$GATEWAY_ID"
leaf other-server other-ca jwt-ext-authz serverAuth "DNS.1=localhost" "DNS.2=jwt-ext-authz" "IP.1=127.0.0.1"
leaf other-client other-ca gateway clientAuth "URI.1=$GATEWAY_ID"
rm -f ./*.srl
