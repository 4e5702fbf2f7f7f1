/**
 * The policy pack started as the Pulumi CLI starts a Node.js pack, and a gRPC client speaking the engine's side
 * of the analyzer protocol. Mirrors pulumi/pulumi v3.248.0: `sdk/nodejs/cmd/pulumi-language-nodejs/main.go`
 * (RunPlugin: `node <run-policy-pack> <nodeargs> <engine address> <pack dir>`, cwd = pack dir),
 * `sdk/policy_proxy.go` (the env it sets from ConfigureStack, the port read from the first stdout line) and
 * `sdk/go/common/resource/plugin/analyzer_plugin.go` (the calls the engine makes).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { parse as parseYaml } from "yaml";
import * as rpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";

// Messages must come from the google-protobuf copy @pulumi/pulumi's stubs were generated against.
const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/proto/analyzer_pb"));
export const { Struct } = fromPulumi(
  "google-protobuf/google/protobuf/struct_pb",
) as typeof import("google-protobuf/google/protobuf/struct_pb");
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb") as typeof import("google-protobuf/google/protobuf/empty_pb");

export const PACK_DIR = path.resolve(__dirname, "..", "..", "policies");

/** What the engine's ConfigureStack carries; the language host's proxy turns it into the pack's environment. */
export interface StackInfo {
  readonly organization: string;
  readonly project: string;
  readonly stack: string;
  readonly dryRun: boolean;
  readonly config: Readonly<Record<string, string>>;
}

/** The command line pulumi-language-nodejs builds for a pack (kind = analyzer), from its PulumiPolicy.yaml. */
export function packCommand(packDir: string, engineAddress: string): { bin: string; args: string[]; cwd: string } {
  const proj = parseYaml(readFileSync(path.join(packDir, "PulumiPolicy.yaml"), "utf8")) as {
    runtime: string | { name: string; options?: { nodeargs?: string } };
  };
  const runtime = typeof proj.runtime === "string" ? { name: proj.runtime } : proj.runtime;
  if (runtime.name !== "nodejs") throw new Error(`runtime ${runtime.name}: only nodejs packs are started here`);
  const nodeargs = ("options" in runtime ? runtime.options?.nodeargs : undefined) ?? "";
  if (/["'\\]/.test(nodeargs)) throw new Error(`nodeargs ${nodeargs}: quoting is not mirrored here`);
  // locateModule: `require.resolve` run from the pack directory.
  const runPath = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
  // As RunPlugin does for analyzers: nodeargs after the script, then the engine address, the directory last.
  const args = [runPath, ...nodeargs.split(/\s+/).filter(Boolean), engineAddress, packDir];
  return { bin: process.execPath, args, cwd: packDir };
}

/** The environment the policy proxy adds once ConfigureStack has arrived (PULUMI_NODEJS_*, PULUMI_CONFIG). */
export function packEnv(info: StackInfo): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PULUMI_NODEJS_ORGANIZATION: info.organization,
    PULUMI_NODEJS_PROJECT: info.project,
    PULUMI_NODEJS_STACK: info.stack,
    PULUMI_NODEJS_DRY_RUN: String(info.dryRun),
    PULUMI_CONFIG: JSON.stringify(info.config),
  };
}

export interface RunningPack {
  readonly pid: number;
  readonly port: number;
  /** Everything the pack wrote to stderr (for failure messages). */
  stderr(): string;
  /** SIGTERM by pid, SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Start the pack; resolves with the port it prints on its first stdout line (the proxy reads `%d\n`). */
export function startPack(info: StackInfo, engineAddress: string, timeoutMs = 180_000): Promise<RunningPack> {
  const { bin, args, cwd } = packCommand(PACK_DIR, engineAddress);
  const child: ChildProcess = spawn(bin, args, { cwd, env: packEnv(info), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(killer);
  };
  return new Promise<RunningPack>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      void stop().then(() => reject(new Error(`${why}\nstderr:\n${err.slice(-4000)}`)));
    };
    const timer = setTimeout(() => fail(`the pack printed no port within ${timeoutMs} ms`), timeoutMs);
    const early = (code: number | null, signal: string | null) =>
      fail(`the pack exited (code ${code}, signal ${signal}) before printing its port`);
    child.once("exit", early);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      const line = out.slice(0, nl).trim();
      clearTimeout(timer);
      child.off("exit", early);
      if (!/^\d+$/.test(line)) return fail(`first stdout line is not a port: ${JSON.stringify(line)}`);
      resolve({ pid: child.pid!, port: Number(line), stderr: () => err, stop });
    });
  });
}

type Unary<Req, Res> = (
  req: Req,
  md: grpc.Metadata,
  opts: Partial<grpc.CallOptions>,
  cb: (e: grpc.ServiceError | null, r: Res) => void,
) => unknown;

/** The engine's side of the analyzer service, promisified, each call with a deadline. */
export class AnalyzerRpc {
  private readonly client: rpc.AnalyzerClient;

  constructor(
    port: number,
    private readonly deadlineMs = 120_000,
  ) {
    // The engine's limit (rpcutil.GrpcChannelOptions, `maxRPCMessageSize` 400 MiB in rpcutil/serve.go): one
    // AnalyzeStack request carries every resource.
    this.client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": 400 * 1024 * 1024,
      "grpc.max_send_message_length": 400 * 1024 * 1024,
    });
  }

  private call<Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) =>
      fn.call(this.client, req, new grpc.Metadata(), { deadline: Date.now() + this.deadlineMs }, (e, r) => (e ? reject(e) : resolve(r))),
    );
  }

  configureStack(info: StackInfo): Promise<pb.AnalyzerStackConfigureResponse> {
    const req = new pb.AnalyzerStackConfigureRequest()
      .setOrganization(info.organization)
      .setProject(info.project)
      .setStack(info.stack)
      .setDryRun(info.dryRun);
    for (const [k, v] of Object.entries(info.config)) req.getConfigMap().set(k, v);
    return this.call(this.client.configureStack as Unary<typeof req, pb.AnalyzerStackConfigureResponse>, req);
  }
  getPluginInfo(): Promise<PluginInfo> {
    return this.call(this.client.getPluginInfo as Unary<InstanceType<typeof Empty>, PluginInfo>, new Empty());
  }
  getAnalyzerInfo(): Promise<pb.AnalyzerInfo> {
    return this.call(this.client.getAnalyzerInfo as Unary<InstanceType<typeof Empty>, pb.AnalyzerInfo>, new Empty());
  }
  configure(req: pb.ConfigureAnalyzerRequest): Promise<unknown> {
    return this.call(this.client.configure as Unary<pb.ConfigureAnalyzerRequest, unknown>, req);
  }
  analyze(req: pb.AnalyzeRequest): Promise<pb.AnalyzeResponse> {
    return this.call(this.client.analyze as Unary<pb.AnalyzeRequest, pb.AnalyzeResponse>, req);
  }
  analyzeStack(req: pb.AnalyzeStackRequest): Promise<pb.AnalyzeResponse> {
    return this.call(this.client.analyzeStack as Unary<pb.AnalyzeStackRequest, pb.AnalyzeResponse>, req);
  }
  close(): void {
    this.client.close();
  }
}
