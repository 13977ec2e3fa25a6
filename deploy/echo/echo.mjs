// A stand-in LLM upstream: answers every request with the method, path, headers and body it
// received, and writes the same as one JSON line on stdout, so you see (and the Envoy tests
// record) the provider key jwt-ext-authz injected and that the caller's JWT never arrived.
// PORT=0 picks a free port; the first line says which.
import { createServer } from 'node:http'

const MAX_BODY = 1024 * 1024

const server = createServer((req, res) => {
  const chunks = []
  let size = 0
  req.on('data', (chunk) => {
    size += chunk.length
    if (size <= MAX_BODY) chunks.push(chunk)
  })
  req.on('end', () => {
    const seen = {
      method: req.method,
      path: req.url,
      headers: headersAsSent(req.rawHeaders),
      body: Buffer.concat(chunks).toString('utf8'),
    }
    process.stdout.write(`${JSON.stringify(seen)}\n`)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(`${JSON.stringify(seen, null, 2)}\n`)
  })
})
/** Lower-cased names; a header sent twice keeps both values (Node's req.headers drops some). */
function headersAsSent(raw) {
  const headers = {}
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase()
    const had = headers[name]
    headers[name] = had === undefined ? raw[i + 1] : [].concat(had, raw[i + 1])
  }
  return headers
}

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST, () =>
  console.log(`echo upstream on :${server.address().port}`),
)
// As PID 1 in a container Node would ignore SIGTERM.
process.on('SIGTERM', () => process.exit(0))
