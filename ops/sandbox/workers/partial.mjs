// What `sandbox.break partial-regression` deploys: the Worker's own entry module ("__WORKER__", as in bad.mjs),
// but every request is about 300 ms slower and about 8% of them throw (error 1101, scriptThrewException on
// Cloudflare): a regression a fixed threshold of 10% lets through, which a side-by-side judge catches.
import * as worker from "__WORKER__";
export * from "__WORKER__";

const FAILING = 0.08;
const SLOWER_MS = 300;

export default {
  ...worker.default,
  async fetch(request, env, ctx) {
    await new Promise((resolve) => setTimeout(resolve, SLOWER_MS));
    if (Math.random() < FAILING) throw new Error("this version fails some requests (sandbox: partial-regression)");
    return worker.default.fetch(request, env, ctx);
  },
};
