#!/usr/bin/env bash
# Refresh the vendored accessible-autocomplete (GOV.UK's, from the npm registry).
#
#   scripts/update-accessible-autocomplete.sh [VERSION]
#
# The search box's suggestions use it (static/js/search-suggestions.mjs). Its built script and
# stylesheet are copied as published into static/accessible-autocomplete/ and committed, like
# GOV.UK Frontend (scripts/update-govuk-frontend.sh): nothing is fetched when the app runs.
# Keep package.json's devDependency at the same version, so the lock file records the hash.
set -euo pipefail
version="${1:-3.0.1}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "accessible-autocomplete@${version}" >/dev/null \
  && tar xzf "accessible-autocomplete-${version}.tgz")
source="$work/package/dist"
target="$here/static/accessible-autocomplete"
rm -rf "$target"
mkdir -p "$target"
# The source maps are left out: they name files that are not shipped.
sed '/^\/\/# sourceMappingURL=/d' "$source/accessible-autocomplete.min.js" \
  > "$target/accessible-autocomplete.min.js"
sed 's#/\*\# sourceMappingURL=[^*]*\*/##' "$source/accessible-autocomplete.min.css" \
  > "$target/accessible-autocomplete.min.css"
echo "$version" > "$target/VERSION"
cp "$work/package/LICENSE.txt" "$target/LICENCE"
echo "accessible-autocomplete $version vendored in $target"
