"""The local sandbox: an emulated Cloudflare control plane, the example Worker on real workerd, fake upstreams."""
