// The interactive run command: boots dist/bootward as /init of the QEMU board with swtpm,
// the console on this terminal.
//
//     npx tsx initrd/qemu/run.ts [--tpm1] [--reset] [--display gtk|sdl|vnc=:0|none] [--init FILE]
//
// --init boots another /init binary instead of dist/bootward (its initramfs goes to .build/).
// The initramfs is rebuilt into dist/initramfs-<board>.cpio.xz when its inputs changed; the
// swtpm state and the demo disk live in .state/<board>/ (delete it, or pass --reset, to
// start from a blank TPM and a fresh disk). QEMU and swtpm stop when the guest powers off,
// when QEMU quits (Ctrl-A x) or when this command is interrupted (Ctrl-C).

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_BOARD } from "../boards.ts";
import { LOCK_PATH, REPO_ROOT } from "../debian.ts";
import { ensureTools } from "../host-tools.ts";
import { buildInitramfs, kernelImage } from "../image.ts";
import { makeDemoDisk } from "./demo-disk.ts";
import { startQemu } from "./board.ts";

export const RUN_TOOLS = ["qemu-system-x86_64", "swtpm", "swtpm_setup", "swtpm_ioctl", "mkfs.ext4", "debugfs", "xz", "depmod", "modinfo", "cpio", "readelf", "dpkg-deb", "apt-get"];

class UsageError extends Error {
  override name = "UsageError";
}

interface Args {
  board: string;
  reset: boolean;
  display: string;
  init?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { board: DEFAULT_BOARD, reset: false, display: "none" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--tpm1") args.board = "qemu-tpm1";
    else if (a === "--reset") args.reset = true;
    else if (a === "--display" && argv[i + 1] !== undefined) args.display = argv[++i]!;
    else if (a === "--init" && argv[i + 1] !== undefined) args.init = argv[++i]!;
    else throw new UsageError(`Unknown argument "${a}"; usage: run.ts [--tpm1] [--reset] [--display gtk|sdl|vnc=:0|none] [--init FILE]`);
  }
  return args;
}

/** Rebuilds the initramfs only when the binary, the lock or the initrd code changed. */
async function initramfsFor(board: string, binary: string, custom: boolean): Promise<string> {
  const out = custom ? join(REPO_ROOT, ".build", `initramfs-${board}-custom.cpio.xz`) : join(REPO_ROOT, "dist", `initramfs-${board}.cpio.xz`);
  const inputs = createHash("sha256").update(readFileSync(binary)).update(readFileSync(LOCK_PATH));
  for (const f of ["boards.ts", "image.ts", "cpio.ts", "elf.ts", "debian.ts"]) inputs.update(readFileSync(join(REPO_ROOT, "initrd", f)));
  const digest = inputs.digest("hex");
  const stamp = join(REPO_ROOT, ".build", `initramfs-${board}${custom ? "-custom" : ""}.inputs`);
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return out;
  process.stderr.write(`Building ${out} ...\n`);
  const built = await buildInitramfs({ board, bootwardBinary: binary, outFile: out });
  process.stderr.write(`initramfs: ${built.bytes} bytes (xz)\n`);
  mkdirSync(join(REPO_ROOT, ".build"), { recursive: true });
  writeFileSync(`${stamp}.tmp`, digest);
  renameSync(`${stamp}.tmp`, stamp);
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  ensureTools(RUN_TOOLS);
  const binary = args.init ?? join(REPO_ROOT, "dist", "bootward");
  if (!existsSync(binary)) throw new UsageError(`${binary} is missing; build it first with: npm run build`);
  const initramfs = await initramfsFor(args.board, binary, args.init !== undefined);
  const kernel = await kernelImage();
  const stateDir = join(REPO_ROOT, ".state", args.board);
  if (args.reset) rmSync(stateDir, { recursive: true, force: true });
  const disk = join(stateDir, "disk.img");
  if (!existsSync(disk)) {
    process.stderr.write(`Making the demo disk ${disk} ...\n`);
    await makeDemoDisk({ outFile: disk });
  }
  process.stderr.write(
    `Booting ${args.board} (state in ${stateDir}). The console is this terminal: Ctrl-C or Ctrl-A x ends the run, Ctrl-A c toggles the QEMU monitor.\n`,
  );
  const board = await startQemu({ board: args.board, kernel: kernel.path, initramfs, disk, stateDir, interactive: true, display: args.display });
  const onSignal = () => void board.stop();
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);
  const exit = await board.exited;
  await board.stop();
  process.stderr.write(`\nQEMU exited (${exit.signal ?? `code ${exit.code}`}); swtpm stopped.\n`);
  return exit.code === 0 || exit.signal !== null ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
