// TPM 1.2 state for tests: swtpm_setup prepares it (an endorsement key, optionally an owner
// with a known passphrase) the way a vendor or another tool would, before bootward sees it.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startSwtpm, type Swtpm } from "./swtpm.ts";

const run = promisify(execFile);

export interface Swtpm12 extends Swtpm {
  /** _TPM_Init, as at a power cycle: the next command needs TPM_Startup again. */
  powerCycle(): Promise<void>;
}

export async function startSwtpm12(setup: { owner?: string } = {}): Promise<Swtpm12> {
  const dir = mkdtempSync(join(tmpdir(), "bootward-swtpm12-"));
  const argv = ["--tpm-state", dir, "--createek"];
  if (setup.owner !== undefined) argv.push("--take-ownership", "--ownerpass", setup.owner, "--srk-well-known", "--lock-nvram");
  try {
    await run("swtpm_setup", argv);
    const sw = await startSwtpm("1.2", dir);
    return {
      ...sw,
      powerCycle: async () => {
        await run("swtpm_ioctl", ["--tcp", `127.0.0.1:${sw.ctrlPort}`, "-i"]);
      },
      stop: async () => {
        await sw.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
