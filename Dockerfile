# The image of `tide controller` (deploy/kubernetes/40-deployment.yaml).
#   docker build -t ghcr.io/tide-autoscaler/tide:0.1.0 .
# Tide runs its TypeScript sources directly on Node 24 (type stripping): no build step, so the
# image is the production dependencies + src/ + bin/ on a distroless Node 24, as a non-root user.
# The root filesystem can stay read-only: the controller writes only under the mounted /var/lib/tide
# (decision records) and /tmp.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev also skips the `node` npm package (the image already has Node 24);
# --ignore-scripts: no install script runs at build time
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
# uid/gid 65532 ("nonroot"), matching the Deployment's securityContext
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "bin/tide.js"]
CMD ["controller"]
