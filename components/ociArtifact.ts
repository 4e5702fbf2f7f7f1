/**
 * `OciArtifact`: a workload component pushed to an OCI registry as a Wasm artifact (`application/wasm` layer,
 * `application/vnd.wasm.config.v0+json` config), referenced by its manifest digest, never by a tag. The
 * digest is computed from the file before anything is pushed (the artifact is deterministic), so
 * deployments can name it at preview; the push resource makes it exist, and checks the registry agrees.
 */
import * as pulumi from "@pulumi/pulumi";
import { digestRef } from "../src/oci/artifact";
import { componentArtifact } from "../src/oci/facts";
import { pushArtifact } from "../src/oci/registry";

export interface OciArtifactArgs {
  /** The component file. */
  readonly file: string;
  /** Registry: `host[:port]`, optionally with a path prefix (`ghcr.io/org`). */
  readonly registry: string;
  /** Repository in the registry, e.g. `<lattice>/<workload>`. */
  readonly repository: string;
  /**
   * Plain HTTP to the registry (a registry on loopback only).
   * @default false
   */
  readonly insecure?: boolean;
  /**
   * Registry user (Basic, or for a Bearer token request).
   * @default anonymous
   */
  readonly username?: pulumi.Input<string>;
  /**
   * Registry password or token (kept secret).
   * @default none
   */
  readonly password?: pulumi.Input<string>;
}

interface PushInputs {
  file: string;
  registry: string;
  repository: string;
  digest: string;
  insecure: boolean;
  username?: string;
  password?: string;
}

/** Push the file's artifact; the registry's digest must be the one the deployments reference. */
export async function pushFile(inputs: PushInputs): Promise<string> {
  const { artifact } = componentArtifact(inputs.file);
  if (artifact.manifest.digest !== inputs.digest)
    throw new Error(`${inputs.file} changed: its artifact is ${artifact.manifest.digest}, not ${inputs.digest}`);
  // `ghcr.io/org` is the host ghcr.io and the repository prefix org/.
  const [host, ...prefix] = inputs.registry.replace(/\/$/, "").split("/");
  const repository = [...prefix, inputs.repository].join("/");
  const target = { registry: host!, repository, insecure: inputs.insecure, username: inputs.username, password: inputs.password };
  return pushArtifact(target, artifact);
}

const pushProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: PushInputs) {
    return { id: await pushFile(inputs), outs: inputs };
  },
  async diff(_id, olds: PushInputs, news: PushInputs) {
    const replaces = (["digest", "registry", "repository"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0 || olds.username !== news.username || olds.password !== news.password, replaces };
  },
  async update(_id, _olds, news: PushInputs) {
    await pushFile(news);
    return { outs: news };
  },
};

/** The push itself (a dynamic resource: the registry's distribution API, no CLI needed). */
class OciPush extends pulumi.dynamic.Resource {
  constructor(name: string, args: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
    super(pushProvider, name, args, opts);
  }
}

export class OciArtifact extends pulumi.ComponentResource {
  /** Manifest digest (`sha256:...`). */
  public readonly digest: string;
  /** `<registry>/<repository>@<digest>`, available once the push is done. */
  public readonly ref: pulumi.Output<string>;
  /** The component's imports and exports (its hostInterfaces follow from them). */
  public readonly imports: string[];
  public readonly exports: string[];

  constructor(name: string, args: OciArtifactArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:wasm:OciArtifact", name, { file: args.file, registry: args.registry, repository: args.repository }, opts);
    const c = componentArtifact(args.file);
    this.digest = c.artifact.manifest.digest;
    this.imports = c.imports;
    this.exports = c.exports;
    const push = new OciPush(
      `${name}-push`,
      {
        file: args.file,
        registry: args.registry,
        repository: args.repository,
        digest: this.digest,
        insecure: args.insecure ?? false,
        ...(args.username !== undefined ? { username: args.username } : {}),
        ...(args.password !== undefined ? { password: pulumi.secret(args.password) } : {}),
      },
      { parent: this },
    );
    this.ref = push.id.apply(() => digestRef(args.registry, args.repository, this.digest));
    this.registerOutputs({ digest: this.digest, ref: this.ref, imports: this.imports, exports: this.exports });
  }
}
