# syntax=docker/dockerfile:1
# The kubetrail image: Node.js 24 (runs the TypeScript sources directly, type stripping), only the
# production dependencies, a non-root user, `kubetrail` as the entrypoint. The Helm chart
# (deploy/helm/kubetrail) runs it as `kubetrail serve --config ...` with uid/gid 10001.
# Built and pushed by CI elsewhere (no container engine where kubetrail is developed and tested);
# test/integration/deploy-image.test.ts lints this file with hadolint and runs the entrypoint in
# the same file layout on the test machine.
#   docker build -t kubetrail:dev .
#   docker run --rm kubetrail:dev replay --help
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /opt/kubetrail
COPY package.json package-lock.json ./
# exactly the lockfile's production dependencies (no vitest, typescript, playwright)
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
LABEL org.opencontainers.image.title="kubetrail" \
      org.opencontainers.image.description="Control-plane tracer for Kubernetes: audit webhook, informers and Events as per-object traces" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    XDG_DATA_HOME=/var/lib \
    NODE_COMPILE_CACHE=/tmp/node-compile-cache
RUN groupadd --gid 10001 kubetrail \
  && useradd --uid 10001 --gid 10001 --home-dir /var/lib/kubetrail --no-create-home --shell /usr/sbin/nologin kubetrail \
  && mkdir -p /var/lib/kubetrail \
  && chown 10001:10001 /var/lib/kubetrail
WORKDIR /opt/kubetrail
COPY --from=deps /opt/kubetrail/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src ./src
COPY linkers ./linkers
COPY frontend-plugin ./frontend-plugin
# the recorded scenario `kubetrail demo` replays
COPY examples/kwok-scenario ./examples/kwok-scenario
RUN ln -s /opt/kubetrail/src/cli.ts /usr/local/bin/kubetrail
USER 10001:10001
# audit webhook + /healthz /readyz /metrics; query API and UI
EXPOSE 8080 16686
VOLUME ["/var/lib/kubetrail"]
ENTRYPOINT ["kubetrail"]
CMD ["--help"]
