# Firefly SDK harness image for beam:env:docker:v1 environments.
#   docker build -t firefly-beam:0.1.0 .
# Runners start it with Beam's boot flags; the entrypoint is /opt/apache/beam/boot.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY coders ./coders
COPY operations ./operations
COPY harness ./harness
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/apache/beam/firefly
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin/firefly ./bin/firefly
COPY bin/docker-boot /opt/apache/beam/boot
RUN chmod 755 /opt/apache/beam/boot ./bin/firefly \
  && mkdir -p /tmp/beam-semi-persist \
  && chown node:node /tmp/beam-semi-persist
USER node
ENTRYPOINT ["/opt/apache/beam/boot"]
