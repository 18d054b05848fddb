# The controller image: a static (musl) `eds` binary on a distroless base, run as a non-root user.
#   docker build -t ghcr.io/extendeddaemonset/extendeddaemonset:<version> .
# The entrypoint is `eds`; the Deployment passes `controller` and its flags as arguments.

FROM rust:1-alpine AS build
# musl-dev and gcc: the C parts of `ring` (TLS); Alpine's Rust targets musl and links statically.
RUN apk add --no-cache musl-dev gcc
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p eds --bin eds \
    && cp target/release/eds /eds \
    && ! ldd /eds 2>/dev/null | grep -q '=>'

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /eds /eds
# 65532 is the distroless "nonroot" user; numeric so that runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/eds"]
CMD ["controller"]
