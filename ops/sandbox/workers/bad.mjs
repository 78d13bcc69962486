// What `inv sandbox.break bad-deploy` deploys with the real `wrangler deploy`, in place of the
// Worker's own code (its config and bindings unchanged): every request throws, as a bad release
// would. On Cloudflare that is error 1101 and the invocation status scriptThrewException.
export default {
  async fetch() {
    throw new Error("this version is broken (sandbox: bad-deploy)");
  },
};
