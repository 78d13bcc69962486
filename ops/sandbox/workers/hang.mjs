// What `sandbox.break worker-hang` deploys: the Worker's own entry module ("__WORKER__", as in bad.mjs), but
// every request is accepted and never answered. workerd cancels a request whose promise can never settle
// ("your Worker's code had hung"), so the wait is a real pending timer, an hour long, as a Worker stuck on a
// slow upstream would be.
import * as worker from "__WORKER__";
export * from "__WORKER__";

export default {
  ...worker.default,
  async fetch() {
    await new Promise((resolve) => setTimeout(resolve, 3_600_000));
    return new Response("answered an hour late\n");
  },
};
