# syntax=docker/dockerfile:1
# The gateway image: compiled JavaScript and production dependencies only, on a current Node LTS,
# as a non-root user, with Node itself as PID 1 so SIGTERM reaches the drain logic.
# test/production/dockerfile.test.ts replays these steps (no container engine on our machines):
# keep COPY sources, ENV, EXPOSE and CMD in the simple forms it parses.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The npm cache lives in a BuildKit cache mount, never in a layer.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY routes ./routes
COPY bench ./bench
RUN npm run build

FROM node:24-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
# Memory for a 512 MiB container (docker-compose.yml sets that limit): a V8 heap of 320 MiB, and
# glibc told to give large buffers back at once (request bodies of up to 32 MiB are mmapped and
# unmapped when freed, not kept in an arena) with two arenas, not eight per core. With them, peak
# RSS under concurrent 32 MiB bodies stays under the limit (test/production/memory.test.ts).
ENV NODE_OPTIONS=--max-old-space-size=320 MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/routes ./dist/routes
COPY config ./config
# The API contract, served at /openapi.yaml, /openapi.json and /docs.
COPY openapi.yaml ./
# Recorded Bedrock streams for the emulator's `replay` scenario (data, a few hundred KB).
COPY test/fixtures/bedrock/stream ./test/fixtures/bedrock/stream
USER node
# 8080: the API; 9464: Prometheus metrics (GET /metrics).
EXPOSE 8080 9464
# No curl in a slim image: Node's own fetch checks the liveness route.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/server.js"]
