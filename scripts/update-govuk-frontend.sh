#!/usr/bin/env bash
# Refresh the vendored GOV.UK Frontend from the npm registry and rebuild its stylesheet.
#
#   scripts/update-govuk-frontend.sh [VERSION]
#
# The version must match govuk-frontend-jinja's (see docs/architecture.md). The stylesheet is
# compiled from static/scss/govuk-frontend.scss with Dart Sass (the npm package `sass`, a dev
# dependency in package.json), so that the council's service does not use GOV.UK's typeface.
# Nothing here runs when the app runs: the results are committed.
set -euo pipefail
version="${1:-6.3.0}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "govuk-frontend@${version}" >/dev/null \
  && mkdir -p node_modules && tar xzf "govuk-frontend-${version}.tgz" \
  && mv package node_modules/govuk-frontend)
source="$work/node_modules/govuk-frontend/dist/govuk"
target="$here/static/govuk-frontend"
rm -rf "$target"
mkdir -p "$target"
cp "$source/govuk-frontend.min.js" "$target/"
# GOV.UK's assets (fonts, crown icons, manifest) are not copied: the stylesheet uses Arial,
# and static/images and static/manifest.json are the service's own.
"$here/node_modules/.bin/sass" --no-source-map --style=compressed \
  --load-path="$work/node_modules" \
  "$here/static/scss/govuk-frontend.scss" "$target/govuk-frontend.min.css"
echo "$version" > "$target/VERSION"
printf 'GOV.UK Frontend %s, MIT licence, Crown copyright: https://github.com/alphagov/govuk-frontend\n' \
  "$version" > "$target/LICENCE"
echo "GOV.UK Frontend $version vendored in $target, stylesheet built without GDS Transport"
