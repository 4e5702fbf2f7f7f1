import { exposedPorts, onTypes, LATTICE_TYPE, type LatticePolicy } from "../lib";

/**
 * The monitoring endpoint (/varz, /connz, /jsz) tells anyone the topology, accounts' activity and
 * JetStream layout, without authentication: it stays inside the cluster (nats-server security guidance).
 */
export const policy: LatticePolicy = {
  name: "latticeform-nats-monitoring-not-exposed",
  description:
    "The NATS monitoring port is not among the ports the lattice exposes outside its clusters (hub and member load balancers, the tie-breaker's firewall), judged on the spec's ports, and no load balancer carries a monitoring port.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    "Give the monitoring port its own number (ports.monitor, default 8222), distinct from the client, route, gateway and leafnode ports; scrape it from inside the cluster.",
  validateResource: onTypes([LATTICE_TYPE, "kubernetes:core/v1:Service"], (props, report, args) => {
    if (args.type === LATTICE_TYPE) {
      const spec = props.spec as Parameters<typeof exposedPorts>[0];
      const monitorOf = (site: string) =>
        spec.clouds.find((c) => c.name === site)?.hub.ports.monitor ??
        (spec.tieBreaker?.name === site ? spec.tieBreaker.ports.monitor : undefined);
      for (const e of exposedPorts(spec)) {
        const m = monitorOf(e.site);
        if (m !== undefined && e.ports.includes(m))
          report(`${e.site}: the monitoring port ${m} is one of the ports the ${e.what} exposes.`);
      }
      return;
    }
    const spec = props.spec ?? {};
    if (spec.type !== "LoadBalancer") return;
    for (const p of (spec.ports ?? []) as { name?: string; port: number }[])
      if (/monitor|http/i.test(p.name ?? "")) report(`the load balancer exposes port ${p.port} (${p.name}): the monitoring endpoint.`);
  }),
};
