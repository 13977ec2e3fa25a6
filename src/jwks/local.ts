import { createPublicKey, X509Certificate } from 'node:crypto'
import { buildKeySet, entryFromKeyObject, KeyMaterialError, type KeySet } from './key-set.js'

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g

/**
 * Reads `jwks.local` material: a PEM public key (SPKI or PKCS#1), PEM certificates (each
 * one's public key), JWKS JSON, or one JWK. PEM keys carry no kid or alg: each is a candidate
 * for every algorithm of its type. Envoy's jwt_authn takes only JWKS; Gloo users paste PEM.
 * A weak RSA key or a member not in base64url is an error here (KeyMaterialError); keys we
 * cannot use for signatures (`use: enc`, an EC key without `crv`) are reported to `skip`.
 */
export function loadLocalKeySet(material: string, skip?: (why: string) => void): KeySet {
  const text = material.trim()
  if (text.startsWith('{')) return fromJson(text, skip)
  if (text.includes('-----BEGIN')) return fromPem(text)
  throw new KeyMaterialError('expected a PEM public key, a PEM certificate or JWKS JSON')
}

function fromJson(text: string, skip?: (why: string) => void): KeySet {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw new KeyMaterialError('JWKS is not valid JSON')
  }
  const keys = (data as { keys?: unknown }).keys === undefined ? { keys: [data] } : data
  return buildKeySet(keys, skip === undefined ? { origin: 'local' } : { origin: 'local', skip })
}

function fromPem(text: string): KeySet {
  const blocks = [...text.matchAll(PEM_BLOCK)]
  if (blocks.length === 0) throw new KeyMaterialError('PEM block is not terminated')
  const keys = blocks.map(([pem, label], i) => {
    const name = `PEM block ${i}`
    if (label!.includes('PRIVATE'))
      throw new KeyMaterialError(`${name}: a private key where a public key belongs`)
    try {
      const key =
        label === 'CERTIFICATE' ? new X509Certificate(pem).publicKey : createPublicKey(pem)
      return entryFromKeyObject(key, name)
    } catch (err) {
      if (err instanceof KeyMaterialError) throw err
      throw new KeyMaterialError(`${name}: not a valid ${label!.toLowerCase()}`)
    }
  })
  return Object.freeze({ keys: Object.freeze(keys) })
}
