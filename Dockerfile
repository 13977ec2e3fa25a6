# syntax=docker/dockerfile:1
# Build stage: dev dependencies (TypeScript) compile src/ to dist/.
FROM node:26-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies only, non-root.
FROM node:26-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY protos ./protos
COPY examples ./examples
USER node
# 9001: gRPC Check + grpc.health.v1; 9090: /metrics /healthz /readyz
EXPOSE 9001 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9090/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# A 4 MiB young generation (V8's default grows to 16): a Check's garbage dies young, so more
# frequent scavenges cost nothing measurable, and peak RSS under load fell ~20 MiB (BENCHMARKS.md).
# The collector on the Check thread, its next full collection due at 30% over the live heap
# (docs/operations.md says why). npm start and the bench run the same flags
# (test/deploy/manifests.test.ts).
ENTRYPOINT ["node", "--max-semi-space-size=4", "--single-threaded-gc", "--heap-growing-percent=30", "dist/src/main.js"]
# Serves the config mounted here (deploy/kubernetes mounts its ConfigMap there); without one it
# exits saying what to mount. The bundled demo: `serve --config /app/examples/llm-gateway.yaml`.
CMD ["serve", "--config", "/etc/jwt-ext-authz/config.yaml"]
