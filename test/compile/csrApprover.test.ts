/**
 * The Krustlet serving-CSR approver's values, held to what kubelet-csr-approver v1.2.9 does with them (the chart's
 * env block and the controller's checks, modelled in csrApproverModel.ts): Krustlet's own CSR is approved, and
 * nothing outside the pool is, nor ever denied.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { awsNodeNameRegex, csrApproverValues, gcpNodeNameRegex } from "../../src/compile/csrApprover";
import { decide, envOf, type ParsedCsr } from "./csrApproverModel";

const SUBNETS = ["10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20"];
const aws = csrApproverValues({ nodeNameRegex: awsNodeNameRegex("eu-west-1"), ipPrefixes: SUBNETS });

/** Krustlet's serving CSR (krustlet v1.0.0-alpha.1 bootstrapping/mod.rs): CN system:node:<hostname>, SANs hostname + IP. */
function krustletCsr(hostname: string, ip: string): ParsedCsr {
  return {
    signerName: "kubernetes.io/kubelet-serving",
    username: `system:node:${hostname}`,
    commonName: `system:node:${hostname}`,
    dnsNames: [hostname],
    ips: [ip],
  };
}
/** The VPC's DNS: EC2 names resolve to the address they spell. */
const ec2Dns = (name: string) => {
  const m = /^ip-(\d+)-(\d+)-(\d+)-(\d+)\./.exec(name);
  return m ? [m.slice(1, 5).join(".")] : [];
};

describe("Krustlet serving-CSR approver (kubelet-csr-approver v1.2.9)", () => {
  it("the chart's env block carries our scope as written (providerRegex goes in unquoted)", () => {
    const env = envOf(aws);
    assert.equal(env.PROVIDER_REGEX, awsNodeNameRegex("eu-west-1"));
    assert.equal(env.PROVIDER_IP_PREFIXES, SUBNETS.join(","));
    assert.equal(env.SKIP_DENY_STEP, "true");
    assert.equal(env.IGNORE_NON_SYSTEM_NODE, "true");
    assert.equal(env.ALLOWED_DNS_NAMES, "1");
    assert.equal(env.BYPASS_DNS_RESOLUTION, undefined, "DNS resolution stays on");
    const gcp = envOf(
      csrApproverValues({
        nodeNameRegex: gcpNodeNameRegex("payments-krustlet", ["europe-west3-a", "europe-west3-b"], "my-proj-1"),
        ipPrefixes: ["10.30.0.0/20"],
      }),
    );
    assert.equal(gcp.PROVIDER_REGEX, gcpNodeNameRegex("payments-krustlet", ["europe-west3-a", "europe-west3-b"], "my-proj-1"));
  });

  it("approves the pool's Krustlet serving CSR", () => {
    const host = "ip-10-20-17-4.eu-west-1.compute.internal";
    assert.equal(decide(envOf(aws), krustletCsr(host, "10.20.17.4"), ec2Dns), "approved");
    const gcpEnv = envOf(
      csrApproverValues({
        nodeNameRegex: gcpNodeNameRegex("payments-krustlet", ["europe-west3-b"], "my-proj-1"),
        ipPrefixes: ["10.30.0.0/20"],
      }),
    );
    const g = "payments-krustlet-x7k2.europe-west3-b.c.my-proj-1.internal";
    assert.equal(
      decide(gcpEnv, krustletCsr(g, "10.30.0.9"), () => ["10.30.0.9"]),
      "approved",
    );
    // Another group's VM in the same subnet is not the pool's.
    assert.equal(
      decide(gcpEnv, krustletCsr("payments-other-x7k2.europe-west3-b.c.my-proj-1.internal", "10.30.0.10"), () => ["10.30.0.10"]),
      "ignored",
    );
  });

  it("leaves alone (never denies) what is not the pool's: other subnets, regions, names, signers and requesters", () => {
    const env = envOf(aws);
    const outside = krustletCsr("ip-10-99-0-4.eu-west-1.compute.internal", "10.99.0.4");
    assert.equal(decide(env, outside, ec2Dns), "ignored");
    assert.equal(decide(env, krustletCsr("ip-10-20-17-4.eu-west-2.compute.internal", "10.20.17.4"), ec2Dns), "ignored");
    // A name that claims an address it does not resolve to.
    assert.equal(decide(env, krustletCsr("ip-10-20-17-4.eu-west-1.compute.internal", "10.20.17.5"), ec2Dns), "ignored");
    const client = {
      ...krustletCsr("ip-10-20-17-4.eu-west-1.compute.internal", "10.20.17.4"),
      signerName: "kubernetes.io/kube-apiserver-client-kubelet",
    };
    assert.equal(decide(env, client, ec2Dns), "ignored");
    const notNode = { ...krustletCsr("ip-10-20-17-4.eu-west-1.compute.internal", "10.20.17.4"), username: "system:serviceaccount:x:y" };
    assert.equal(decide(env, notNode, ec2Dns), "ignored");
    const twoNames = {
      ...krustletCsr("ip-10-20-17-4.eu-west-1.compute.internal", "10.20.17.4"),
      dnsNames: ["ip-10-20-17-4.eu-west-1.compute.internal", "ip-10-20-17-4.x"],
    };
    assert.equal(decide(env, twoNames, ec2Dns), "ignored");
  });

  it("the chart's defaults would approve any node anywhere and deny the rest: the scope is what makes it narrow", () => {
    const anywhere = krustletCsr("ip-10-99-0-4.eu-west-1.compute.internal", "10.99.0.4");
    assert.equal(decide(envOf({}), anywhere, ec2Dns), "approved");
    assert.equal(decide(envOf({}), { ...anywhere, username: "system:serviceaccount:x:y" }, ec2Dns), "denied");
  });

  it("refuses a scope without subnets and an expression the chart's unquoted YAML would change", () => {
    assert.throws(() => csrApproverValues({ nodeNameRegex: "^a$", ipPrefixes: [] }), /needs the pool's subnets/);
    assert.throws(() => csrApproverValues({ nodeNameRegex: "^a\\.b$", ipPrefixes: SUBNETS }), /unquoted YAML/);
    assert.throws(() => csrApproverValues({ nodeNameRegex: "^a: b$", ipPrefixes: SUBNETS }), /unquoted YAML/);
    assert.equal(awsNodeNameRegex("us-east-1"), "^ip-[0-9]{1,3}-[0-9]{1,3}-[0-9]{1,3}-[0-9]{1,3}[.]ec2[.]internal$");
  });
});
