#!/usr/bin/env bash
# Refresh the vendored GOV.UK Frontend from the npm registry.
# The version must match govuk-frontend-jinja's (see docs/frontend.md); pass it as $1.
set -euo pipefail
version="${1:-6.3.0}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "govuk-frontend@${version}" >/dev/null && tar xzf "govuk-frontend-${version}.tgz")
target="$here/static/govuk-frontend"
rm -rf "$target"
mkdir -p "$target"
cp "$work/package/dist/govuk/govuk-frontend.min.css" "$work/package/dist/govuk/govuk-frontend.min.js" "$target/"
cp -r "$work/package/dist/govuk/assets" "$target/assets"
cp "$work/package/LICENSE.txt" "$target/LICENSE.txt" 2>/dev/null || true
echo "$version" > "$target/VERSION"
echo "GOV.UK Frontend $version vendored in $target"
