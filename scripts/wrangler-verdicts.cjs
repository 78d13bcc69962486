// Record wrangler's own verdict on wrangler configs: the error it throws (or null) and the warnings it prints,
// for the top level and each named env, through wrangler's public `unstable_readConfig`.
// usage: node scripts/wrangler-verdicts.cjs WRANGLER_PACKAGE_DIR < jobs.json > verdicts.json
// jobs.json: [{"case": "...", "config": "/abs/path/wrangler.toml", "envs": ["<top>", "staging", ...]}, ...]
"use strict";
const path = require("path");
const fs = require("fs");

process.env.WRANGLER_SEND_METRICS = "false";
const [packageDir] = process.argv.slice(2);
const wrangler = require(path.join(packageDir, "wrangler-dist", "cli.js"));
const version = require(path.join(packageDir, "package.json")).version;
const jobs = JSON.parse(fs.readFileSync(0, "utf8"));
const ansi = /\x1b\[[0-9;]*m/g;
let printed = [];
for (const stream of ["log", "warn", "error", "info"]) console[stream] = (...parts) => printed.push(parts.join(" "));

(async () => {
	const out = { wrangler: version, cases: {} };
	for (const job of jobs) {
		const envs = {};
		for (const env of job.envs) {
			printed = [];
			let error = null;
			try {
				wrangler.unstable_readConfig({ config: job.config, env: env === "<top>" ? undefined : env }, {});
			} catch (e) {
				error = String((e && e.message) || e).replace(ansi, "");
			}
			await new Promise((done) => setTimeout(done, 1));
			const warnings = printed.join("\n").replace(ansi, "")
				.replace(/\n*There is a newer version of Wrangler available[^\n]*/g, "");
			envs[env] = { error, warnings };
		}
		out.cases[job.case] = { file: path.basename(job.config), envs };
	}
	// exit only once the pipe has taken everything: a large write to a pipe is asynchronous in Node
	process.stdout.write(JSON.stringify(out, null, 1) + "\n", () => process.exit(0));
})();
