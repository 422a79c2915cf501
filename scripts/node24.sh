#!/usr/bin/env bash
# Runs a command with Node 24, the Lambda functions' runtime, first on PATH:
#   scripts/node24.sh npm test        (npm run test:node24)
# Node 24 comes from the npm registry (the node-linux-<arch> package ships the binary) into
# node_modules/.cache, once; NODE24_VERSION picks another 24.x.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${NODE24_VERSION:-24.22.3}
target=$(node -p 'process.platform + "-" + process.arch')
case "$target" in
  linux-x64 | linux-arm64) package="node-$target" ;;
  *)
    echo "scripts/node24.sh: no Node 24 package on npm for $target; install Node 24 and run the command with it first on PATH" >&2
    exit 2
    ;;
esac
dir=node_modules/.cache/$package-$version
bin=$PWD/$dir/node_modules/$package/bin
if [ ! -x "$bin/node" ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error --prefix "$dir" "$package@$version" >&2
fi
export PATH="$bin:$PATH"
echo "node $(node --version) from $dir" >&2
exec "$@"
