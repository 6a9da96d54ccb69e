# phoebe's image: `node dist/src/cli/bin.js` in /app, as a non-root user (the chart's defaults:
# image.workingDir /app, runAsUser 1000, command `node dist/src/cli/bin.js run --config …`).
#   docker build -t phoebe:0.1.0 .

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsconfig.json compiles src/ and test/ together; the tests are built and then left behind.
COPY test ./test
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY config ./config
# The official Node images' `node` user (uid 1000), as the chart's securityContext expects.
USER 1000:1000
ENTRYPOINT ["node", "dist/src/cli/bin.js"]
CMD ["--help"]
