import { proxyEndToEnd } from '../helpers/proxy-end-to-end.js'

// End to end through Debian's nginx: deploy/nginx/nginx.conf as shipped.
proxyEndToEnd({
  name: 'nginx auth_request',
  binary: 'nginx',
  versionArgs: ['-v'],
  configFile: 'deploy/nginx/nginx.conf',
  configure: (conf, at) =>
    conf
      .replace('server 127.0.0.1:9002;', `server ${at.authz};`)
      .replaceAll('server 127.0.0.1:8080;', `server 127.0.0.1:${at.upstream};`)
      .replace('listen 8000;', `listen 127.0.0.1:${at.listen};`),
  command: (dir, file) => ({
    args: ['-p', dir, '-c', file, '-e', 'stderr', '-g', `daemon off; pid ${dir}/nginx.pid;`],
  }),
  optionalHeaders: true,
})
