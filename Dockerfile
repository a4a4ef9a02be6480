# syntax=docker/dockerfile:1
# Parlor: build the release site, then run it as a non-root user with /data as a volume.
# Configured only by environment variables at run time (see README, "Configuration").

FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-unknown-unknown \
 && cargo install cargo-leptos --version 0.3.10 --locked \
 && cargo install wasm-bindgen-cli --version 0.2.130
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# wasm-opt for the release WASM comes from npm's binaryen, pinned in end2end/.
COPY end2end/package.json end2end/package-lock.json end2end/
RUN cd end2end && npm ci --no-audit --no-fund
COPY . .
ENV PATH=/src/end2end/node_modules/.bin:$PATH
RUN cargo leptos build --release --split \
 && target/release/parlor precompress

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app parlor \
 && mkdir -p /data \
 && chown parlor /data
COPY --from=build /src/target/release/parlor /app/parlor
# The client's hashed file names: Leptos and Parlor read them beside the binary.
COPY --from=build /src/target/release/hash.txt /app/hash.txt
COPY --from=build /src/target/site /app/site
USER parlor
WORKDIR /app
VOLUME /data
ENV PARLOR_ADDR=0.0.0.0:3000 \
    PARLOR_DATA_DIR=/data \
    PARLOR_SITE_ROOT=/app/site
EXPOSE 3000
ENTRYPOINT ["/app/parlor"]
CMD ["serve"]
