# syntax=docker/dockerfile:1
#
# samspill as a container image: a static binary (CGO_ENABLED=0, built by
# `make build`, so with the Makefile's flags and version stamp) on
# distroless/static, which has CA certificates and time zones and no shell,
# running as an unprivileged user. docs/deployment.md describes its use.
#
#   docker build -t samspill .
#   docker build --build-arg VERSION=v1.2.0 --build-arg COMMIT=$(git rev-parse HEAD) -t samspill:v1.2.0 .
#
# Not built in CI (the CI machine has no Docker engine).

# The Makefile pins GOTOOLCHAIN=go1.27.3 (the first release without the
# standard-library vulnerabilities govulncheck finds in 1.26.8). The
# builder image carries exactly that release, so the go command uses it as
# it is and downloads no other toolchain. Change both together.
ARG GO_IMAGE=golang:1.27.3-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
# Modules first, so that a change of the sources reuses their layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# VERSION and COMMIT stamp `samspill version`; without them the Makefile
# asks git (when .git is in the build context), else "dev" and "unknown".
ARG VERSION
ARG COMMIT
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    make build ${VERSION:+VERSION=$VERSION} ${COMMIT:+COMMIT=$COMMIT} \
 && ./bin/samspill version \
 && mkdir -p /out/data \
 && cp bin/samspill /out/samspill

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/samspill /usr/local/bin/samspill
# The data folder: the embedded stores of a single instance (mount a volume
# here), a scratch folder for instances whose state is all in PostgreSQL
# and KurrentDB.
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot:nonroot
WORKDIR /data
# Every flag can be set as SAMSPILL_<FLAG>; a flag on the command line wins.
ENV SAMSPILL_ADDR=0.0.0.0:8080 \
    SAMSPILL_DATA=/data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/samspill", "serve"]
