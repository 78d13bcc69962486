// What `sandbox.break bad-deploy` deploys with the real `wrangler deploy`: the Worker's own entry module
// (written beside it by ops/sandbox/breaks.py, in the sandbox's copy; "__WORKER__" names it), its config,
// bindings and exports unchanged, but every request throws, as a bad release would. On Cloudflare that is
// error 1101 and the invocation status scriptThrewException.
import * as worker from "__WORKER__";
export * from "__WORKER__";

export default {
  ...worker.default,
  async fetch() {
    throw new Error("this version is broken (sandbox: bad-deploy)");
  },
};
