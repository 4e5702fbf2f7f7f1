/**
 * `LatticeCredentials`: the lattice's key material. A random 32-byte master secret (a Pulumi resource, so it
 * is stable across `pulumi up`) from which every nkey derives, with JWTs issued at a fixed time
 * (`buildCredentials`): a second `pulumi up` changes nothing. A CA and one certificate per TLS subject
 * (a NATS release, a tie-breaker server, a Wasm host's leaf) from `@pulumi/tls`. Every output holding key
 * material is secret.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { buildCredentials, type Credentials } from "../src/compile/credentials";
import type { LatticeSpec } from "../src/model/schema";
import { topologyOf } from "../src/model/topology";

/** Issue time of every JWT (seconds): fixed, so JWTs are byte-identical across runs. */
export const ISSUED_AT = 1767225600;

export interface TlsSubject {
  /** Certificate id (a release, server or host name). */
  readonly id: string;
  /** DNS names the certificate is valid for. */
  readonly dnsNames: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * IP addresses the certificate is valid for (load balancer IPs).
   * @default []
   */
  readonly ipAddresses?: pulumi.Input<pulumi.Input<string>[]>;
}

export interface LatticeCredentialsArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** TLS subjects to issue certificates for. */
  readonly subjects: readonly TlsSubject[];
  /**
   * Certificate validity in hours (the CA lives ten times as long).
   * @default 8760
   */
  readonly validityHours?: number;
}

export interface PemSet {
  readonly cert: pulumi.Output<string>;
  /** Secret. */
  readonly key: pulumi.Output<string>;
  readonly ca: pulumi.Output<string>;
}

export class LatticeCredentials extends pulumi.ComponentResource {
  /** Master secret, base64 (secret). */
  public readonly master: pulumi.Output<string>;
  /** Operator, account and user credentials (secret). */
  public readonly credentials: pulumi.Output<Credentials>;
  public readonly caCert: pulumi.Output<string>;
  private readonly pems = new Map<string, PemSet>();

  constructor(name: string, args: LatticeCredentialsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:security:LatticeCredentials", name, { lattice: args.spec.name, subjects: args.subjects.map((s) => s.id) }, opts);
    const o = { parent: this };
    const validity = args.validityHours ?? 8760;
    const masterBytes = new random.RandomBytes(`${name}-master`, { length: 32 }, o);
    this.master = pulumi.secret(masterBytes.base64);
    const spec = args.spec;
    const topo = topologyOf(spec);
    this.credentials = pulumi.secret(
      this.master.apply((b64) => buildCredentials(spec, topo, new Uint8Array(Buffer.from(b64, "base64")), ISSUED_AT)),
    );

    const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, o);
    const ca = new tls.SelfSignedCert(
      `${name}-ca`,
      {
        privateKeyPem: caKey.privateKeyPem,
        isCaCertificate: true,
        subject: { commonName: `${spec.name} lattice CA`, organization: "latticeform" },
        validityPeriodHours: validity * 10,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
      },
      o,
    );
    this.caCert = ca.certPem;
    for (const s of args.subjects) {
      if (this.pems.has(s.id)) throw new Error(`LatticeCredentials ${name}: TLS subject ${s.id} given twice`);
      const key = new tls.PrivateKey(`${name}-${s.id}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, o);
      const csr = new tls.CertRequest(
        `${name}-${s.id}-csr`,
        {
          privateKeyPem: key.privateKeyPem,
          subject: { commonName: s.id, organization: "latticeform" },
          dnsNames: s.dnsNames,
          ipAddresses: s.ipAddresses ?? [],
        },
        o,
      );
      const cert = new tls.LocallySignedCert(
        `${name}-${s.id}-cert`,
        {
          certRequestPem: csr.certRequestPem,
          caPrivateKeyPem: caKey.privateKeyPem,
          caCertPem: ca.certPem,
          validityPeriodHours: validity,
          earlyRenewalHours: 720,
          // Servers are clients of each other on routes and gateways: both uses.
          allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
        },
        o,
      );
      this.pems.set(s.id, { cert: cert.certPem, key: pulumi.secret(key.privateKeyPem), ca: ca.certPem });
    }
    this.registerOutputs({ master: this.master, credentials: this.credentials, caCert: this.caCert });
  }

  /** The certificate, key (secret) and CA of a subject. */
  pem(id: string): PemSet {
    const p = this.pems.get(id);
    if (!p) throw new Error(`no TLS subject ${id}; subjects: ${[...this.pems.keys()].join(", ")}`);
    return p;
  }
}
