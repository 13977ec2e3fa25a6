// A stand-in LLM upstream for the compose demo: answers every request with the method, path
// and headers it received, so you can see the provider key jwt-ext-authz injected and that
// the caller's JWT never arrived.
import { createServer } from 'node:http'

const port = Number(process.env.PORT ?? 8080)
createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(`${JSON.stringify({ method: req.method, path: req.url, headers: req.headers }, null, 2)}\n`)
  })
}).listen(port, () => console.log(`echo upstream on :${port}`))
