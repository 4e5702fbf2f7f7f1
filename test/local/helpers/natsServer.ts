/** One nats-server of the pinned version on a config file, outside any lattice (a pod's sidecar config, say). */
import { spawn, type ChildProcess } from "node:child_process";
import { natsServerBin } from "../../../src/tools/pins";

/**
 * Start it and resolve with its client port once its log says it listens (and, when given, matches `ready` too);
 * after 10 s it is killed and the promise rejects with what it logged. The caller stops it (`proc.kill`).
 */
export function spawnNatsServer(confFile: string, ready?: RegExp): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(natsServerBin(), ["-c", confFile], { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`nats-server did not get ready: ${buf}`));
    }, 10_000);
    proc.stderr.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(buf);
      if (m && (!ready || ready.test(buf))) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
  });
}
