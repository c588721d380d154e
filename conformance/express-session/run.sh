#!/bin/sh
# Runs express-session's own test suite (test/session.js) against this package's session().
#
#   git clone https://github.com/expressjs/session.git ../express-session
#   (cd ../express-session && npm install)
#   npm run build
#   conformance/express-session/run.sh ../express-session [mocha options, e.g. --grep saveUninitialized]
#
# The clone is left as it is: its tests are copied to a temporary folder, beside a stand-in for its index.js
# (express-session.cjs) that hands them this package's session(). REPORTER=spec lists every test by name.
set -e
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
clone=${1:?usage: $0 <path to a clone of github.com/expressjs/session> [mocha options]}
shift
clone=$(cd "$clone" && pwd)
[ -f "$clone/test/session.js" ] || { echo "$clone is not a clone of github.com/expressjs/session (no test/session.js)" >&2; exit 2; }
[ -x "$clone/node_modules/.bin/mocha" ] || { echo "run npm install in $clone first" >&2; exit 2; }
[ -f "$project/build/src/index.js" ] || { echo "run npm run build in $project first" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/express-session-conformance.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$clone/test" "$work/test"
cp "$here/express-session.cjs" "$work/index.js"
mkdir "$work/session"
printf "module.exports = require(%s);\n" "'$clone/session/cookie'" >"$work/session/cookie.js"
ln -s "$clone/node_modules" "$work/node_modules"
cd "$work"
./test/support/gencert.sh >/dev/null 2>&1 # the key and certificate of its HTTPS tests
RCS_PROJECT=$project RCS_CLONE=$clone "$clone/node_modules/.bin/mocha" --require test/support/env --check-leaks \
  --exit --reporter "${REPORTER:-dot}" "$@" test/session.js
