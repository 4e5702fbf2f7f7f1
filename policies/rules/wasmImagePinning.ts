import { onTypes, walk, type LatticePolicy, type Props } from "../lib";

const DIGEST = /@sha256:[0-9a-f]{64}$/;
const DOWNLOAD = /\b(curl|wget)\b[^\n]*https?:\/\/[^\s'"]+/g;
/** A fetch from the pod or machine itself (a probe of a local monitoring port) downloads nothing. */
const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/;

/** Boot scripts a resource carries: EC2 user data (base64), GCE startup scripts, installer commands. */
function scripts(type: string, props: Props): string[] {
  if (type === "aws:ec2/launchTemplate:LaunchTemplate" || type === "aws:ec2/instance:Instance") {
    const u = props.userData ?? props.userDataBase64;
    if (typeof u !== "string") return [];
    return [type === "aws:ec2/launchTemplate:LaunchTemplate" || props.userDataBase64 ? Buffer.from(u, "base64").toString("utf8") : u];
  }
  if (type.startsWith("gcp:compute/")) return typeof props.metadataStartupScript === "string" ? [props.metadataStartupScript] : [];
  const out: string[] = [];
  walk(props, (path, v) => {
    if (typeof v === "string" && /(command|args)\[\d+\]$/.test(path)) out.push(v);
  });
  return out;
}

/**
 * Supply chain: what runs is what was reviewed. Images are pinned by digest, downloads checked against a
 * pinned SHA-256 (the pinning pulumi/compliance-policies and CIS ask of images).
 */
export const policy: LatticePolicy = {
  name: "latticeform-wasm-image-pinning",
  description:
    "Every container image and Wasm workload image the lattice deploys (hosts, sidecars, installers, workloads) is pinned by digest, and every file a boot script downloads is checked against a pinned SHA-256.",
  enforcementLevel: "advisory",
  severity: "medium",
  remediationSteps:
    "Reference images as <repo>@sha256:<digest>; set krustletSha256 / shimSha256 in the stack config so boot scripts verify their downloads.",
  validateResource: onTypes(
    [
      "kubernetes:apps/v1:Deployment",
      "kubernetes:apps/v1:DaemonSet",
      "kubernetes:apps/v1:StatefulSet",
      "kubernetes:batch/v1:Job",
      "kubernetes:runtime.wasmcloud.dev/v1alpha1:WorkloadDeployment",
      "aws:ec2/launchTemplate:LaunchTemplate",
      "aws:ec2/instance:Instance",
      "gcp:compute/instance:Instance",
      "gcp:compute/instanceTemplate:InstanceTemplate",
    ],
    (props, report, args) => {
      if (args.type.startsWith("kubernetes:"))
        walk(props.spec, (path, v) => {
          if (/(^|\.)image$/.test(path) && typeof v === "string" && !DIGEST.test(v)) report(`spec.${path} ${v} is not pinned by digest.`);
        });
      for (const s of scripts(args.type, props)) {
        if (/sha256sum -c|shasum -a 256 -c/.test(s)) continue;
        for (const m of s.matchAll(DOWNLOAD)) {
          const url = m[0].match(/https?:\/\/[^\s'"]+/)![0];
          if (!LOOPBACK.test(url)) report(`a boot script downloads ${url} without checking a pinned SHA-256.`);
        }
      }
    },
  ),
};
