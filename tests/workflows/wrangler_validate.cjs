// Run wrangler's own config validation (unstable_readConfig) on a config; print errors and warnings as JSON.
// usage: node wrangler_validate.cjs CONFIG [ENV]
const path = require("path");
process.env.WRANGLER_SEND_METRICS = "false";
const wrangler = require(path.join(__dirname, "..", "..", "node_modules", "wrangler"));
const buf = [];
console.warn = (...a) => buf.push(a.join(" "));
console.log = (...a) => buf.push(a.join(" "));
let error = null;
try {
  wrangler.unstable_readConfig({ config: process.argv[2], env: process.argv[3] || undefined }, {});
} catch (e) {
  error = String(e.message || e).replace(/\x1b\[[0-9;]*m/g, "");
}
process.stdout.write(JSON.stringify({ error, warnings: buf.join("\n").replace(/\x1b\[[0-9;]*m/g, "") }));
