// Start a swtpm for one test file: free TCP ports, a temporary state directory, and a
// clean stop (TPM shutdown, then swtpm_ioctl -s) so no dictionary-attack event is counted.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { SwtpmTransport } from "../../runtime/host/node/swtpm-transport.ts";
import { openTpm, type Tpm } from "../../tpm/index.ts";

const run = promisify(execFile);

export interface Swtpm {
  port: number;
  ctrlPort: number;
  dir: string;
  version: "1.2" | "2.0";
  /** A new raw connection (swtpm serves one connection at a time: close it before tpm2-tools runs). */
  transport(): SwtpmTransport;
  /** Runs f on bootward's library over a fresh connection, closed afterwards so tpm2-tools can connect. */
  withTpm<T>(f: (tpm: Tpm) => Promise<T>): Promise<T>;
  /** TPM2TOOLS_TCTI for tpm2-tools. */
  tcti: string;
  /** Run a tpm2-tools program against this swtpm; rejects with its stderr on failure. */
  tool(argv: string[], input?: Uint8Array): Promise<{ stdout: Buffer; stderr: string }>;
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

async function freePortPair(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = 20000 + Math.floor(Math.random() * 40000);
    if ((await portFree(p)) && (await portFree(p + 1))) return p;
  }
  throw new Error("no free pair of TCP ports found for swtpm");
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`swtpm exited with status ${child.exitCode} before listening`);
    if (!(await portFree(port))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`swtpm did not listen on port ${port} within 15 s`);
}

/** Start swtpm on a free port pair; another test file may grab the same ports first, so retry. */
async function launch(version: "1.2" | "2.0", dir: string): Promise<{ child: ChildProcess; port: number }> {
  let last = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePortPair();
    const argv = ["socket", "--tpmstate", `dir=${dir}`, "--server", `type=tcp,port=${port}`, "--ctrl", `type=tcp,port=${port + 1}`, "--flags", "not-need-init"];
    if (version === "2.0") argv.splice(1, 0, "--tpm2");
    const child = spawn("swtpm", argv, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    try {
      await waitForPort(port, child);
      return { child, port };
    } catch (e) {
      child.kill();
      last = `${(e as Error).message}: ${stderr}`;
    }
  }
  throw new Error(`swtpm did not start: ${last}`);
}

/**
 * `stateDir` (e.g. a QEMU board's stateDir/tpm2) is used and kept instead of a temporary
 * state, so the host can prepare the TPM a board then boots with.
 */
export async function startSwtpm(version: "1.2" | "2.0" = "2.0", stateDir?: string): Promise<Swtpm> {
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), "bootward-swtpm-"));
  const { child, port } = await launch(version, dir).catch((e) => {
    if (stateDir === undefined) rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const ctrlPort = port + 1;
  const tcti = `swtpm:port=${port}`;
  return {
    port,
    ctrlPort,
    dir,
    version,
    tcti,
    transport: () => new SwtpmTransport(port),
    async withTpm(f) {
      const tpm = await openTpm(new SwtpmTransport(port));
      try {
        return await f(tpm);
      } finally {
        tpm.close();
      }
    },
    async tool(args: string[], input?: Uint8Array) {
      return new Promise((resolve, reject) => {
        const p = execFile(args[0]!, args.slice(1), { env: { ...process.env, TPM2TOOLS_TCTI: tcti }, encoding: "buffer" }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${args.join(" ")} failed: ${stderr.toString()}`));
          else resolve({ stdout, stderr: stderr.toString() });
        });
        if (input) p.stdin!.end(input);
      });
    },
    async stop() {
      if (child.exitCode === null) {
        const t = new SwtpmTransport(port);
        const shutdown = version === "2.0"
          ? Uint8Array.of(0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x45, 0, 0)
          : Uint8Array.of(0x00, 0xc1, 0, 0, 0, 10, 0, 0, 0, 0x98);
        await t.send(shutdown).catch(() => undefined);
        t.close();
        const exited = new Promise((r) => child.once("exit", r));
        await run("swtpm_ioctl", ["--tcp", `127.0.0.1:${ctrlPort}`, "-s"]);
        await exited;
      }
      if (stateDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SwtpmPty {
  /** The pty that stands in for /dev/tpm0 (socat bridges it to swtpm's unix socket). */
  device: string;
  dir: string;
  /** Wait until the device can be opened (socat is restarted after every close). */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * swtpm on a unix socket behind a pty, as DESIGN.md describes for host tests of the device
 * path. A TPM 1.2 gets the endorsement key its vendor would have made.
 */
export async function startSwtpmPty(version: "1.2" | "2.0" = "2.0"): Promise<SwtpmPty> {
  const dir = mkdtempSync(join(tmpdir(), "bootward-swtpm-pty-"));
  const sock = join(dir, "sock");
  const device = join(dir, "tpm0");
  if (version === "1.2") await run("swtpm_setup", ["--tpm-state", dir, "--createek"]);
  const swtpm = spawn("swtpm", ["socket", ...(version === "2.0" ? ["--tpm2"] : []), "--tpmstate", `dir=${dir}`, "--server", `type=unixio,path=${sock}`, "--ctrl", `type=unixio,path=${sock}.ctrl`, "--flags", "not-need-init,startup-clear"], { stdio: "ignore" });
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 400; i++) {
      if (cond()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  try {
    await until(() => existsSync(sock), "swtpm's socket");
  } catch (e) {
    swtpm.kill();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let stopping = false;
  let socat: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const launch = () => {
    if (stopping) return;
    const child = spawn("socat", [`PTY,link=${device},rawer,wait-slave`, `UNIX-CONNECT:${sock}`], { stdio: "ignore" });
    socat = child;
    exited = new Promise((resolve) => child.once("exit", () => {
      resolve();
      launch();
    }));
  };
  launch();
  let handedOut: { child: ChildProcess; exited: Promise<void> } | undefined;
  const linked = () => {
    try {
      return lstatSync(device).isSymbolicLink() && existsSync(device);
    } catch {
      return false;
    }
  };
  return {
    device,
    dir,
    async ready() {
      // A fresh socat each time: wait for the one we handed out to leave (it removes its
      // link as it goes), then for its successor's link.
      if (handedOut) await handedOut.exited;
      await until(() => socat !== handedOut?.child && linked(), "socat's pty");
      handedOut = { child: socat!, exited };
    },
    async stop() {
      stopping = true;
      socat?.kill();
      await exited;
      const shutdown = new Promise<void>((resolve) => {
        const c = createConnection(sock, () => c.write(Buffer.from([0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x45, 0, 0])));
        c.on("data", () => c.end());
        c.on("close", () => resolve());
        c.on("error", () => resolve());
      });
      await shutdown;
      const gone = new Promise((r) => swtpm.once("exit", r));
      await run("swtpm_ioctl", ["--unix", `${sock}.ctrl`, "-s"]);
      await gone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
