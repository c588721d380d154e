/* global require, module, process */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS, standing in for a CommonJS package */
'use strict';
// Stands in for require('express-session') in express-session's own test suite (run.sh puts it at the
// suite's package root as index.js). session() is this package's; the classes the suite builds its test stores
// and cookie checks on (Store, MemoryStore, Session, Cookie) are express-session's own, from the clone, since
// this package does not export them.
//
// express-session's defaults, which its tests assume without saying, are passed where a test leaves them out:
// resave and saveUninitialized true (ours default to false) and the cookie name connect.sid (ours: sid).
//
//   RCS_PROJECT  this repository (built: npm run build)
//   RCS_CLONE    the clone of github.com/expressjs/session
const path = require('path');

const ours = require(path.resolve(process.env.RCS_PROJECT));
const theirs = require(path.resolve(process.env.RCS_CLONE));

function withExpressSessionDefaults(options) {
  const given = options || {};
  return {
    ...given,
    resave: given.resave === undefined ? true : given.resave,
    saveUninitialized: given.saveUninitialized === undefined ? true : given.saveUninitialized,
    ...(given.name === undefined && given.key === undefined ? { name: 'connect.sid' } : {}),
  };
}

module.exports = function session(options) {
  return ours.session(withExpressSessionDefaults(options));
};
module.exports.Store = theirs.Store;
module.exports.MemoryStore = theirs.MemoryStore;
module.exports.Session = theirs.Session;
module.exports.Cookie = theirs.Cookie;
