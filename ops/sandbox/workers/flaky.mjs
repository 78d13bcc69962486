// What `sandbox.break endpoint-errors` deploys: the Worker's own entry module ("__WORKER__", as in bad.mjs), but
// every 12th request to one endpoint (a PUT of a manuscript's upload) throws, as a release with a bug on one
// code path would: about 8% of that endpoint's requests fail, and every other route answers as before.
import * as worker from "__WORKER__";
export * from "__WORKER__";

const FLAKY = /^\/manuscripts\/\d+\/upload$/;
let seen = 0;

export default {
  ...worker.default,
  async fetch(request, env, ctx) {
    if (request.method === "PUT" && FLAKY.test(new URL(request.url).pathname) && ++seen % 12 === 0) {
      throw new Error("upload handler failed (sandbox: endpoint-errors)");
    }
    return worker.default.fetch(request, env, ctx);
  },
};
