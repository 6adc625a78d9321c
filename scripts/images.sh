# shellcheck shell=bash
# Container images without a Docker engine: tools/image builds the image of
# each service and of the ops console (the same layout as
# apps/<app>/Dockerfile) as an OCI layout in .local/images/<app>. Sourced by `make images`; test.sh may call
# test_images, which builds all four into a temporary folder, reads them
# back and runs each binary from its layer (about 10 s warm, 1-2 min cold).
[ -n "${ROOT:-}" ] || source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# build_images [app ...]: write .local/images/<app> (all apps by default).
# TAG=... sets the image tag (default: the commit's short hash).
build_images() {
  step "Building container images (OCI layouts in .local/images)"
  (cd "$ROOT/tools/image" && GOWORK=off go run . -root "$ROOT" ${TAG:+-tag "$TAG"} "$@")
}

# test_images checks the image build end to end: non-root user, entrypoint,
# exposed port, one static ELF that refuses to start in prod with the public
# default JWT secret.
test_images() {
  step "Container images: build, read back, run the binary from the layer"
  (cd "$ROOT/tools/image" && GOWORK=off go vet ./... && GOWORK=off go test -count=1 ./...)
}
