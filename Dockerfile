# syntax=docker/dockerfile:1
# One image for both roles: ROLE=api (receiver) or ROLE=worker, chosen at start.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
# The server (dist/) and the console's static files (console/dist/: one bundle, no CDN).
RUN npm run build

FROM ${NODE_IMAGE} AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/console/dist ./console/dist
COPY package.json ./
COPY schemas ./schemas
COPY openapi ./openapi
COPY migrations ./migrations
# The image's unprivileged user (uid 1000); nothing is written to the filesystem at run time.
USER node
EXPOSE 3000 3001
STOPSIGNAL SIGTERM
# Node is PID 1 and handles SIGTERM itself (graceful shutdown within SHUTDOWN_TIMEOUT_MS).
CMD ["node", "--no-warnings", "dist/main.js"]
