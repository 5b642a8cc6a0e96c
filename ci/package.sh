#!/usr/bin/env bash
# Packaging check for the published crates (zerocodec-derive, zerocodec, zerocodec-codecs,
# zerocodec-axum, zerocodec-tonic, zerocodec-nats):
#
# 1. `cargo package` packages each crate in dependency order and verifies it by building it
#    from its .crate, the unpublished siblings served from cargo's local staging registry, and
#    `cargo publish --dry-run` does the rest of a publish but the upload; then each crate's
#    file list is printed and checked (library sources, README, both license texts, nothing
#    else, and no test, bench or example target left behind).
# 2. What a new user does: a scratch crate outside the workspace, whose dependencies are the
#    README's quick-start TOML (crates.io for everything else, through the shared registry
#    cache, with the packaged crates patched in), builds and runs the README's quick-start
#    code (no rkyv dependency of its own: `#[zerocodec::message]` derives rkyv through
#    `zerocodec::rkyv`); a second one, with the same dependencies, builds and runs the
#    everyday tasks (examples/tasks.rs); a third adds the README's lines for the rpc example
#    and builds that example; a fourth, with tonic/README.md's dependencies and its lines for
#    the grpc example, builds and runs that example (a gRPC server and clients on 127.0.0.1)
#    from the packaged zerocodec-tonic. The dependencies and the quick-start code are
#    extracted from the READMEs, so the check fails when a README drifts.
#
# Usage: bash ci/package.sh (honours CARGO_TARGET_DIR; builds in <target>/package-check).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS

# Dependency order: zerocodec re-exports zerocodec-derive, zerocodec-codecs depends on zerocodec,
# zerocodec-axum, zerocodec-tonic and zerocodec-nats on both (zerocodec-nats is checked by
# `cargo package` alone: its example needs a running nats-server, which its tests start).
crates=(zerocodec-derive zerocodec zerocodec-codecs zerocodec-axum zerocodec-tonic zerocodec-nats)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac
check_dir=$target_dir/package-check

fail() {
  echo "ci/package.sh: $*" >&2
  exit 1
}

# Other crates' docs link zerocodec items through this URL (see src/lib.rs).
grep -q "html_root_url = \"https://docs.rs/zerocodec/$version\"" src/lib.rs ||
  fail "src/lib.rs: html_root_url must name zerocodec $version"

echo "== cargo package: package and verify ${crates[*]} ($version)"
# Cargo unpacks the crates it verifies from its staging registry into CARGO_HOME's
# registry/src/-<hash>/ and reuses an unpacked copy of the same name and version on later
# runs, even when the crate changed since: on a reused machine the check would build against
# stale sources. Remove earlier unpacked copies of our crates first (a fresh machine has none).
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/zerocodec*-"$version"
# Cargo also takes a registry crate of a given name and version to be immutable, so it reuses
# what an earlier run compiled of it in the check's target directory: remove that too (after a
# change to zerocodec, verifying zerocodec-codecs against the old build fails or, worse, passes).
rm -rf "$check_dir"/debug/.fingerprint/zerocodec* "$check_dir"/debug/build/zerocodec* \
  "$check_dir"/debug/deps/*zerocodec*
log=$(mktemp)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/zerocodec-package-check.XXXXXX")
trap 'rm -rf "$log" "$scratch"' EXIT
package_args=()
for crate in "${crates[@]}"; do package_args+=(-p "$crate"); done
# --allow-dirty: this checks what would be published; `cargo publish` itself still refuses a
# dirty tree. The verification builds share the scratch crates' target directory.
cargo package --locked --allow-dirty --target-dir "$check_dir" "${package_args[@]}" 2>&1 |
  tee "$log"
echo "== cargo publish --dry-run (already verified: --no-verify)"
cargo publish --dry-run --no-verify --locked --allow-dirty --target-dir "$check_dir" \
  "${package_args[@]}" 2>&1 | tee -a "$log"

# The only expected warnings: the dry run itself, and the workspace's tests, examples and
# benches that the packages leave out on purpose (cargo drops their targets from the
# published manifest).
unexpected=$(grep '^warning' "$log" | sort -u |
  grep -Ev '^warning: ignoring (test|example|benchmark) `[^`]+` as `[^`]+` is not included in the published package$' |
  grep -Fvx 'warning: aborting upload due to dry run' || true)
[ -z "$unexpected" ] || fail "unexpected warnings from cargo publish --dry-run:
$unexpected"

for crate in "${crates[@]}"; do
  file="$check_dir/package/$crate-$version.crate"
  [ -f "$file" ] || fail "$file was not written"
  echo "== $crate $version ships:"
  entries=$(tar -tzf "$file" | sed "s|^$crate-$version/||" | sort)
  sed 's/^/    /' <<<"$entries"
  extra=$(grep -Ev '^(Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json|README\.md|LICENSE-MIT|LICENSE-APACHE|src/.+\.rs)$' <<<"$entries" || true)
  [ -z "$extra" ] || fail "$crate ships files a user does not need:
$extra"
  for needed in Cargo.toml README.md LICENSE-MIT LICENSE-APACHE src/lib.rs; do
    grep -qx "$needed" <<<"$entries" || fail "$crate does not ship $needed"
  done
  # codecs/ and derive/ hold symlinks to the root's license texts; the package has the texts.
  for license in LICENSE-MIT LICENSE-APACHE; do
    tar -xzOf "$file" "$crate-$version/$license" | cmp -s - "$license" ||
      fail "$crate's $license differs from the workspace's"
  done
  if tar -xzOf "$file" "$crate-$version/Cargo.toml" | grep -Eq '^\[\[(test|bench|example|bin)\]\]'; then
    fail "$crate's published manifest declares a target whose file it does not ship"
  fi
  tar -xzf "$file" -C "$scratch"
done

# The Nth fenced block of language LANG in README.md's "## Quick start" section.
readme_block() {
  awk -v lang="$1" -v n="$2" '
    /^## / { section = ($0 == "## Quick start"); next }
    !section { next }
    inside && /^```$/ { inside = 0; if (count == n) exit; next }
    inside { if (count == n) print; next }
    $0 == "```" lang { count++; inside = 1 }
  ' README.md
}
quick_toml=$(readme_block toml 1)
rpc_toml=$(readme_block toml 2)
quick_rs=$(readme_block rust 1)
grep -qx '\[dependencies\]' <<<"$quick_toml" || fail "README.md: no quick-start [dependencies] block"
[ -n "$rpc_toml" ] || fail "README.md: no dependency block for the rpc example"
grep -q 'fn main' <<<"$quick_rs" || fail "README.md: no quick-start Rust block"
# A new user names serde and the zerocodec crates, nothing else: rkyv comes with zerocodec.
if grep -Eq '^rkyv *=' <<<"$quick_toml"; then
  fail "README.md: the quick start needs no rkyv dependency of its own (zerocodec::rkyv)"
fi

# `base` with the lines of `extra` replacing the lines of the dependencies they name.
merge_deps() {
  local names
  names=$(sed -n 's/^\([A-Za-z0-9_-]*\) *=.*/\1/p' <<<"$2" | paste -sd '|')
  grep -Ev "^($names) *=" <<<"$1"
  printf '%s\n' "$2"
}
# The rpc example's dependencies: the quick start's, with the README's rpc lines.
rpc_deps=$(merge_deps "$quick_toml" "$rpc_toml")

# The grpc example's: tonic/README.md's first TOML block, with its lines for the example.
tonic_block() {
  awk -v n="$1" '
    inside && /^```$/ { inside = 0; if (count == n) exit; next }
    inside { if (count == n) print; next }
    $0 == "```toml" { count++; inside = 1 }
  ' tonic/README.md
}
grpc_base=$(tonic_block 1)
grpc_toml=$(tonic_block 2)
grep -qx '\[dependencies\]' <<<"$grpc_base" || fail "tonic/README.md: no [dependencies] block"
grep -Eq '^zerocodec-tonic *=' <<<"$grpc_base" || fail "tonic/README.md: no zerocodec-tonic dependency"
[ -n "$grpc_toml" ] || fail "tonic/README.md: no dependency block for the grpc example"
grpc_deps=$(merge_deps "$grpc_base" "$grpc_toml")

app=$scratch/app
mkdir -p "$app/quickstart/src" "$app/tasks/src" "$app/rpc/src" "$app/grpc/src"
patches=""
# The crates the scratch crates use (zerocodec-axum is checked by `cargo package` above).
for crate in zerocodec-derive zerocodec zerocodec-codecs zerocodec-tonic; do
  patches+="$crate = { path = \"$scratch/$crate-$version\" }"$'\n'
done
cat >"$app/Cargo.toml" <<EOF
[workspace]
members = ["quickstart", "tasks", "rpc", "grpc"]
resolver = "3"

# The packaged crates stand in for their crates.io releases.
[patch.crates-io]
$patches
EOF
package_manifest() {
  printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n%s\n' "$1" "$2"
}
package_manifest readme-quickstart "$quick_toml" >"$app/quickstart/Cargo.toml"
package_manifest readme-tasks "$quick_toml" >"$app/tasks/Cargo.toml"
package_manifest readme-rpc "$rpc_deps" >"$app/rpc/Cargo.toml"
package_manifest readme-grpc "$grpc_deps" >"$app/grpc/Cargo.toml"
printf '%s\n' "$quick_rs" >"$app/quickstart/src/main.rs"
cp examples/tasks.rs "$app/tasks/src/main.rs"
cp examples/rpc/main.rs "$app/rpc/src/main.rs"
cp examples/rpc/service.rs "$app/rpc/src/service.rs"
cp tonic/examples/grpc/main.rs "$app/grpc/src/main.rs"
cp tonic/examples/grpc/chat.rs "$app/grpc/src/chat.rs"

echo "== the README's quick start, built from the packages (scratch crate in $app)"
sed 's/^/    /' "$app/quickstart/Cargo.toml"
(cd "$app" && CARGO_TARGET_DIR="$check_dir" cargo run -p readme-quickstart)

echo "== the everyday tasks (examples/tasks.rs) with the quick start's dependencies, from the packages"
(cd "$app" && CARGO_TARGET_DIR="$check_dir" cargo run -p readme-tasks)

echo "== the rpc example with the README's dependency lines, built from the packages"
sed 's/^/    /' "$app/rpc/Cargo.toml"
(cd "$app" && CARGO_TARGET_DIR="$check_dir" cargo build -p readme-rpc)

echo "== the grpc example with tonic/README.md's dependency lines, built from the packages and run"
sed 's/^/    /' "$app/grpc/Cargo.toml"
# The example serves and calls on 127.0.0.1 and exits; the bound keeps a hang from stalling CI.
(cd "$app" && CARGO_TARGET_DIR="$check_dir" timeout 300 cargo run -p readme-grpc)

# A patch that went unused would mean the build took a crates.io release instead.
if grep -q '\[\[patch.unused\]\]' "$app/Cargo.lock"; then
  fail "a packaged crate was not used by the scratch crates"
fi

echo "ci/package.sh: ${crates[*]} package, verify and build the README's quick start, the everyday tasks, the rpc example and the grpc example ($((SECONDS - start)) s)"
