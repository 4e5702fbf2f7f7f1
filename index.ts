/**
 * The Pulumi program: read the stack's `latticeform:lattice` config, validate it (every problem at once),
 * build one `Lattice`, and export what a drill needs to reach it: per cloud the NATS client, leafnode and
 * gateway endpoints and the kubeconfig (secret), and the lattice name.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Lattice } from "./components/lattice";
import { parseLattice } from "./src/model/validate";

const config = new pulumi.Config("latticeform");
const spec = parseLattice(config.requireObject("lattice"));
// Pulumi records a stack trace per resource and per internal promise; with source maps on (tsx turns them on)
// each one is mapped, which costs about 40% of the program's time on a 1000-workload lattice (see
// bench/components.bench.ts). Spec errors are reported above, with their own messages.
process.setSourceMapsEnabled(false);
const gcpProject = new pulumi.Config("gcp").get("project");
if (config.get("operatorCidrs") !== undefined)
  throw new Error(
    "latticeform:operatorCidrs is no longer read: admin ranges live in the spec, access.api.cidrs (Kubernetes API endpoints; private ranges with a private endpoint) and access.natsCidrs (NATS load balancers; public ranges)",
  );
const kubeconfigs: Record<string, pulumi.Output<string>> = {};
for (const c of spec.clouds) {
  if (c.existingKubeconfig) kubeconfigs[c.name] = pulumi.secret(readFileSync(path.resolve(__dirname, c.existingKubeconfig), "utf8"));
}

const lattice = new Lattice(pulumi.getStack(), {
  spec,
  gcpProject,
  kubeconfigs,
  existingEgressCidrs: config.getObject<Record<string, string[]>>("existingEgressCidrs") ?? {},
  registry: config.get("registry"),
  shimSha256: config.get("shimSha256"),
});

export const latticeName = lattice.latticeName;
export const clouds = lattice.clouds;
