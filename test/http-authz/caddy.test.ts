import { proxyEndToEnd } from '../helpers/proxy-end-to-end.js'

// End to end through Debian's Caddy: deploy/caddy/Caddyfile as shipped.
proxyEndToEnd({
  name: 'caddy forward_auth',
  binary: 'caddy',
  versionArgs: ['version'],
  configFile: 'deploy/caddy/Caddyfile',
  configure: (conf, at) =>
    conf
      .replace('forward_auth 127.0.0.1:9002', `forward_auth ${at.authz}`)
      .replaceAll('reverse_proxy 127.0.0.1:8080', `reverse_proxy 127.0.0.1:${at.upstream}`)
      .replace('http://:8000 {', `http://127.0.0.1:${at.listen} {`),
  // Caddy keeps state under XDG_DATA_HOME / XDG_CONFIG_HOME: the scratch directory.
  command: (dir, file) => ({
    args: ['run', '--config', file, '--adapter', 'caddyfile'],
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
  }),
  // The Caddyfile copies Authorization only (see its comment on copy_headers).
  optionalHeaders: false,
})
