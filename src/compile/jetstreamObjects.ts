/**
 * The JetStream controller's (NACK) objects for the spec's streams, KV buckets and mirrors (pure): each object is
 * applied by the controller of the cloud it is placed in (the stretched cluster's by the first cloud's).
 */
import type { LatticeSpec } from "../model/schema";
import { planJetStream, type StreamPlan } from "./jetstream";
import { NATS_NAMESPACE } from "./k8senv";
import { cloudOf, labels, type K8sObject } from "./kubernetes";

function goDuration(ns: number): string {
  return ns % 1e9 === 0 ? `${ns / 1e9}s` : `${ns / 1e6}ms`;
}

/** Cloud whose JetStream controller applies a stream: the cloud it is placed in, or the first cloud. */
export function jetstreamHome(spec: LatticeSpec, plan: StreamPlan): string {
  const cluster = plan.config.placement.cluster;
  return spec.clouds.some((c) => c.name === cluster) ? cluster : spec.clouds[0]!.name;
}

/** The JetStream controller's objects for the spec's streams, KV buckets and mirrors. */
export function jetstreamObjects(spec: LatticeSpec, cloud: string): K8sObject[] {
  const c = cloudOf(spec, cloud);
  return planJetStream(spec)
    .filter((p) => jetstreamHome(spec, p) === cloud)
    .map((p): K8sObject => {
      const meta = { name: p.name.toLowerCase().replace(/_/g, "-"), namespace: NATS_NAMESPACE, labels: labels(spec, c) };
      const cfg = p.config;
      const common = {
        replicas: cfg.num_replicas,
        storage: cfg.storage,
        placement: cfg.placement,
        jsDomain: spec.jetstream.domain,
        preventDelete: true,
      };
      // A bucket without direct gets is declared as its stream (below): NACK's KeyValue cannot turn them off.
      if (p.kind === "kv" && cfg.allow_direct !== false) {
        return {
          apiVersion: "jetstream.nats.io/v1beta2",
          kind: "KeyValue",
          metadata: meta,
          spec: { bucket: p.bucket!, history: cfg.max_msgs_per_subject ?? 1, ...common },
        };
      }
      return {
        apiVersion: "jetstream.nats.io/v1beta2",
        kind: "Stream",
        metadata: meta,
        spec: {
          name: cfg.name,
          ...(cfg.subjects ? { subjects: cfg.subjects } : {}),
          ...common,
          ...(cfg.mirror ? { mirror: cfg.mirror } : {}),
          ...(cfg.duplicate_window ? { duplicateWindow: goDuration(cfg.duplicate_window) } : {}),
          ...(cfg.max_age ? { maxAge: goDuration(cfg.max_age) } : {}),
          ...(cfg.max_msgs_per_subject ? { maxMsgsPerSubject: cfg.max_msgs_per_subject } : {}),
          ...(cfg.allow_direct ? { allowDirect: true } : {}),
          ...(cfg.mirror_direct ? { mirrorDirect: true } : {}),
          ...(cfg.allow_rollup_hdrs ? { allowRollup: true } : {}),
          ...(cfg.deny_delete ? { denyDelete: true } : {}),
        },
      };
    });
}
