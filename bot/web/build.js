#!/usr/bin/env node
// Copies the chat widget's prebuilt browser bundle from node_modules into bot/web/static/, so that the
// page loads nothing from outside this server. Run after `npm ci`: `node bot/web/build.js`.
//
// rasa-webchat 1.0.1 ships lib/index.js, a UMD bundle (React included) that defines window.WebChat. Its
// stylesheets @import the Inter font from Google Fonts; those imports are removed here (the page sets
// its own font stack with local Chinese fonts), and the copy is refused if any outside address that the
// browser would load on its own is left in it.
"use strict";

const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..", "..");
const WEBCHAT = path.join(ROOT, "node_modules", "rasa-webchat");
const OUT = path.join(__dirname, "static");

function fail(message) {
  console.error(`bot/web/build.js: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(path.join(WEBCHAT, "package.json"))) {
  fail("node_modules/rasa-webchat is missing; run `npm ci --ignore-scripts` first");
}
const { version } = JSON.parse(fs.readFileSync(path.join(WEBCHAT, "package.json"), "utf8"));
if (version !== "1.0.1") {
  fail(`expected rasa-webchat 1.0.1 (the version whose socket.io client speaks to Rasa 3), found ${version}`);
}

let bundle = fs.readFileSync(path.join(WEBCHAT, "lib", "index.js"), "utf8");
const fontImport = /@import url\((["']?)https?:\/\/fonts\.googleapis\.com\/[^)]*\1\);?/g;
const removed = (bundle.match(fontImport) || []).length;
bundle = bundle.replace(fontImport, "");
const leftover = bundle.match(/@import\s+url\(\s*["']?(https?:)?\/\/[^)]*\)/);
if (leftover) {
  fail(`the bundle still imports an outside stylesheet: ${leftover[0]}`);
}
if (/fonts\.(googleapis|gstatic)\.com/.test(bundle)) {
  fail("the bundle still names Google Fonts");
}

fs.mkdirSync(OUT, { recursive: true });
fs.writeFileSync(
  path.join(OUT, "rasa-webchat.js"),
  `/*! rasa-webchat ${version} (Apache-2.0, see rasa-webchat.LICENSE); copied by bot/web/build.js, outside font imports removed */\n` +
    bundle
);
fs.copyFileSync(path.join(WEBCHAT, "LICENSE"), path.join(OUT, "rasa-webchat.LICENSE"));
console.log(`bot/web/static/rasa-webchat.js: rasa-webchat ${version}, ${removed} outside font import(s) removed`);
