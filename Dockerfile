# syntax=docker/dockerfile:1
# The `stb` CLI built from this repository: no registry fetch at pod start (deploy/k8s/*.yaml run
# `node /app/packages/cli/dist/cli.cjs`). Build: docker build -t stb:0.1.0 .
# Versions are pinned: the base image by tag (pin the digest in your registry), npm packages by
# package-lock.json (npm ci).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true CI=true
COPY package.json package-lock.json ./
COPY packages ./packages
COPY tsconfig*.json nx.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx nx run-many -t build --outputStyle=static -p core parser extractor models generator validator bench compare cli \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages ./packages
USER node
ENTRYPOINT ["node", "/app/packages/cli/dist/cli.cjs"]
CMD ["--help"]
