/**
 * What the clouds would compute, faked for evaluations under Pulumi's mocks (the offline review and the
 * component tests): deterministic, well-formed ids, endpoints, addresses, random bytes and PEMs, so the
 * program runs to the end. Pure.
 */
import { createHash } from "node:crypto";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Inputs as plain values: the mock monitor hands secrets over wrapped in a signature object. */
export function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  if (o[SECRET_SIG] !== undefined && "value" in o) return unwrapSecrets(o.value);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
}

function h(name: string, n = 4): Buffer {
  return createHash("sha256").update(name).digest().subarray(0, n);
}

function ip(prefix: string, name: string): string {
  const b = h(name, 2);
  return `${prefix}.${b[0]! % 250}.${(b[1]! % 250) + 1}`;
}

/** Fake outputs per provider type, merged over the inputs. */
export function fakeState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const pem = (kind: string) => `-----BEGIN ${kind}-----\nmock-${name}\n-----END ${kind}-----\n`;
  const out: Record<string, unknown> = {
    arn: `arn:mock:${type}:${name}`,
    selfLink: `https://mock/${name}`,
    selfLinkUnique: `https://mock/${name}?u`,
  };
  switch (type) {
    case "random:index/randomBytes:RandomBytes": {
      const bytes = createHash("sha256").update(`master:${name}`).digest();
      out.base64 = bytes.toString("base64");
      out.hex = bytes.toString("hex");
      break;
    }
    case "random:index/randomString:RandomString":
    case "random:index/randomPassword:RandomPassword":
      out.result = h(name, 16)
        .toString("hex")
        .slice(0, Number(inputs.length ?? 16));
      break;
    case "tls:index/privateKey:PrivateKey":
      out.privateKeyPem = pem("PRIVATE KEY");
      out.publicKeyPem = pem("PUBLIC KEY");
      break;
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      out.certPem = pem("CERTIFICATE");
      break;
    case "tls:index/certRequest:CertRequest":
      out.certRequestPem = pem("CERTIFICATE REQUEST");
      break;
    case "aws:eks/cluster:Cluster":
      out.endpoint = `https://${name}.eks.mock`;
      out.certificateAuthority = { data: Buffer.from(`ca-${name}`).toString("base64") };
      out.vpcConfig = { ...(inputs.vpcConfig as object), clusterSecurityGroupId: `sg-${name}` };
      break;
    case "aws:ec2/eip:Eip":
      out.publicIp = ip("52.1", name);
      out.allocationId = `eipalloc-${h(name, 8).toString("hex")}`;
      break;
    case "aws:ec2/launchTemplate:LaunchTemplate":
      out.latestVersion = 1;
      break;
    case "gcp:compute/address:Address":
      out.address = ip("34.1", name);
      break;
    case "gcp:container/cluster:Cluster":
      out.endpoint = ip("10.9", name);
      out.masterAuth = { clusterCaCertificate: Buffer.from(`ca-${name}`).toString("base64") };
      break;
    case "gcp:serviceaccount/account:Account":
      out.email = `${String(inputs.accountId)}@mock.iam.gserviceaccount.com`;
      break;
    case "kubernetes:core/v1:Service": {
      const spec = inputs.spec as { type?: string } | undefined;
      if (spec?.type === "LoadBalancer") {
        const annotations = (inputs.metadata as { annotations?: Record<string, string> }).annotations ?? {};
        const aws = Object.keys(annotations).some((k) => k.startsWith("service.beta.kubernetes.io/aws"));
        out.status = { loadBalancer: { ingress: [aws ? { hostname: `${name}.elb.mock` } : { ip: ip("35.2", name) }] } };
      }
      break;
    }
  }
  return { ...inputs, ...out };
}

/** Fake results of provider functions (invokes) the program calls; anything else echoes its arguments. */
export function fakeCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (token === "gcp:organizations/getProject:getProject")
    return { ...inputs, number: String(100000000000 + h(String(inputs.projectId)).readUInt32BE(0)) };
  return inputs;
}
