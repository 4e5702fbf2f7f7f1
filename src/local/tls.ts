/** TLS material for the local lattice: one CA and an EC P-256 certificate per server, leaf and client (selfsigned, on Node's crypto). */
import type * as Selfsigned from "selfsigned";

/** Loaded when certificates are made (`up`), not by every process that reads the lattice: hosts never make any. */
const generate: typeof Selfsigned.generate = (...args) => (require("selfsigned") as typeof Selfsigned).generate(...args);

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

export async function makeCa(lattice: string): Promise<Pem> {
  const now = new Date();
  const r = await generate([{ name: "commonName", value: `latticeform ${lattice} local CA` }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(now.getTime() - 3600_000),
    notAfterDate: new Date(now.getTime() + YEAR_MS),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: r.cert, key: r.private };
}

/** A loopback certificate usable for both sides of a connection (routes and gateways are mutual). */
export async function makeLeafCert(ca: Pem, name: string): Promise<Pem> {
  const now = new Date();
  const r = await generate([{ name: "commonName", value: name }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    ca: { key: ca.key, cert: ca.cert },
    notBeforeDate: new Date(now.getTime() - 3600_000),
    notAfterDate: new Date(now.getTime() + YEAR_MS),
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true, clientAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return { cert: r.cert, key: r.private };
}
