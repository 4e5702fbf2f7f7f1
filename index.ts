/**
 * The Pulumi program: read the stack's `latticeform:lattice` config, validate it (every problem at once),
 * build one `Lattice`, and export what a drill needs to reach it: per cloud the NATS client, leafnode and
 * gateway endpoints and the kubeconfig (secret), and the lattice name.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Lattice } from "./components/lattice";
import { parseLattice } from "./src/spec/validate";

const config = new pulumi.Config("latticeform");
const spec = parseLattice(config.requireObject("lattice"));
const gcpProject = new pulumi.Config("gcp").get("project");
const kubeconfigs: Record<string, pulumi.Output<string>> = {};
for (const c of spec.clouds) {
  if (c.existingKubeconfig) kubeconfigs[c.name] = pulumi.secret(readFileSync(path.resolve(__dirname, c.existingKubeconfig), "utf8"));
}

const lattice = new Lattice(pulumi.getStack(), {
  spec,
  gcpProject,
  kubeconfigs,
  existingEgressCidrs: config.getObject<Record<string, string[]>>("existingEgressCidrs") ?? {},
  operatorCidrs: config.getObject<string[]>("operatorCidrs") ?? [],
  registry: config.get("registry"),
  krustletSha256: config.get("krustletSha256"),
  shimSha256: config.get("shimSha256"),
});

export const latticeName = lattice.latticeName;
export const clouds = lattice.clouds;
