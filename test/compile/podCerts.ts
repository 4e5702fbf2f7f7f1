/** Test TLS material laid out as a pod mounts its cert Secret (`tls.crt`, `tls.key` 0600, `ca.crt`). */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { makeCa, makeLeafCert } from "../../src/local/tls";

export async function writePodCerts(certDir: string, name: string): Promise<void> {
  mkdirSync(certDir);
  const ca = await makeCa(name);
  const leaf = await makeLeafCert(ca, name);
  writeFileSync(path.join(certDir, "tls.crt"), leaf.cert);
  writeFileSync(path.join(certDir, "tls.key"), leaf.key, { mode: 0o600 });
  writeFileSync(path.join(certDir, "ca.crt"), ca.cert);
}
