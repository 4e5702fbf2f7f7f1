/**
 * The leader keeper in a cloud (pure): a one-replica Deployment in the NATS namespace running the compiled
 * keeper script (`keeperScript.ts`) in the NATS chart's own nats-box image, with the lattice's `client` and `sys`
 * credentials and a client certificate. Every cloud runs one, so whichever cloud survives an outage keeps the
 * leaders; two at once ask nothing twice (see the script).
 */
import type { LatticeSpec } from "../model/schema";
import type { Topology } from "../model/topology";
import { NATS_NAMESPACE } from "./k8senv";
import { KEEPER_ENV, leaderKeeperScript } from "./keeperScript";
import type { Credentials } from "./credentials";
import { labels, RESTRICTED, secret, type K8sObject } from "./kubernetes";

/** The NATS chart 2.14.2's nats-box image (nats-io/k8s @957650f helm/charts/nats/values.yaml `natsBox.container.image`). */
export const KEEPER_IMAGE = "natsio/nats-box:0.19.7";
/** The image's unprivileged user (nats-io/nats-box Dockerfile: `adduser -u 1000 nats`). */
const NATS_BOX_UID = 1000;

export const KEEPER_NAMES = {
  deployment: "latticeform-leader-keeper",
  script: "latticeform-leader-keeper",
  creds: "latticeform-leader-keeper-creds",
  tls: "latticeform-leader-keeper-tls",
} as const;

/** Secret of the keeper's credentials: the lattice's `client` (streams) and `sys` (meta group) users. */
export function leaderKeeperCredsSecret(creds: Credentials): K8sObject {
  return secret(KEEPER_NAMES.creds, NATS_NAMESPACE, {
    "client.creds": creds.users["client"]!.creds,
    "sys.creds": creds.users["sys"]!.creds,
  });
}

const MOUNTS = { script: "/etc/latticeform/keeper", creds: "/etc/latticeform/creds", tls: "/etc/latticeform/tls" } as const;

/** ConfigMap and Deployment of the cloud's keeper (the Secrets are the component's: they hold key material). */
export function leaderKeeperObjects(spec: LatticeSpec, topo: Topology, cloud: string, serverUrl: string): K8sObject[] {
  const script = leaderKeeperScript(spec, topo);
  if (!script) return [];
  const c = spec.clouds.find((x) => x.name === cloud)!;
  const lbl = labels(spec, c, { "app.kubernetes.io/name": "leader-keeper" });
  const meta = (name: string) => ({ name, namespace: NATS_NAMESPACE, labels: lbl });
  const e = KEEPER_ENV;
  const env = {
    [e.servers]: serverUrl,
    [e.creds]: `${MOUNTS.creds}/client.creds`,
    [e.sysCreds]: `${MOUNTS.creds}/sys.creds`,
    [e.tlsCert]: `${MOUNTS.tls}/tls.crt`,
    [e.tlsKey]: `${MOUNTS.tls}/tls.key`,
    [e.tlsCa]: `${MOUNTS.tls}/ca.crt`,
    [e.nats]: "nats",
    // The CLI looks for its contexts under HOME; the root file system is read-only.
    HOME: "/tmp",
  };
  const selector = { "app.kubernetes.io/name": "leader-keeper", "app.kubernetes.io/instance": spec.name };
  const deployment: K8sObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(KEEPER_NAMES.deployment),
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...lbl, ...selector } },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: NATS_BOX_UID, runAsGroup: NATS_BOX_UID, fsGroup: NATS_BOX_UID },
          automountServiceAccountToken: false,
          containers: [
            {
              name: "keeper",
              image: KEEPER_IMAGE,
              command: ["sh", `${MOUNTS.script}/keeper.sh`],
              env: Object.entries(env).map(([name, value]) => ({ name, value })),
              securityContext: { ...RESTRICTED, runAsUser: NATS_BOX_UID },
              resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
              volumeMounts: [
                { name: "script", mountPath: MOUNTS.script, readOnly: true },
                { name: "creds", mountPath: MOUNTS.creds, readOnly: true },
                { name: "tls", mountPath: MOUNTS.tls, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "script", configMap: { name: KEEPER_NAMES.script, defaultMode: 0o444 } },
            // 0440 with the pod's fsGroup: readable by the image's user, by no one else.
            { name: "creds", secret: { secretName: KEEPER_NAMES.creds, defaultMode: 0o440 } },
            { name: "tls", secret: { secretName: KEEPER_NAMES.tls, defaultMode: 0o440 } },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
  const configMap: K8sObject = { apiVersion: "v1", kind: "ConfigMap", metadata: meta(KEEPER_NAMES.script), data: { "keeper.sh": script } };
  return [configMap, deployment];
}
