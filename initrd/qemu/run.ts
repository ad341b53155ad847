// The run command (`npm start`): builds bootward and the board's initramfs, then boots it as
// /init of the QEMU board with swtpm, the console on this terminal.
//
//     npx tsx initrd/qemu/run.ts [--tpm1] [--reset] [--state DIR] [--display gtk|sdl|vnc=:0|none] [--init FILE]
//
// --init boots another /init binary instead of dist/bootward (its initramfs goes to .build/).
// The swtpm state, the demo disk and the flash live in .state/<board>/, or in --state DIR
// (delete it, or pass --reset, to start from a blank TPM, a fresh disk and an empty flash).
// A reboot in the guest restarts the board; QEMU and swtpm stop when the guest powers off,
// when QEMU quits (Ctrl-A x) or when this command is interrupted (Ctrl-C).

import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_BOARD } from "../boards.ts";
import { build } from "../../build.ts";
import { START_TOOLS, ensureTools } from "../host-tools.ts";
import { buildInitramfs, kernelImage } from "../image.ts";
import { makeDemoDisk } from "./demo-disk.ts";
import { startQemu } from "./board.ts";
import { buildDir, distDir, repoRoot } from "../../build/paths.ts";

class UsageError extends Error {
  override name = "UsageError";
}

interface Args {
  board: string;
  reset: boolean;
  state?: string;
  display: string;
  init?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { board: DEFAULT_BOARD, reset: false, display: "none" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--tpm1") args.board = "qemu-tpm1";
    else if (a === "--reset") args.reset = true;
    else if (a === "--state" && argv[i + 1] !== undefined) args.state = argv[++i]!;
    else if (a === "--display" && argv[i + 1] !== undefined) args.display = argv[++i]!;
    else if (a === "--init" && argv[i + 1] !== undefined) args.init = argv[++i]!;
    else throw new UsageError(`Unknown argument "${a}"; usage: run.ts [--tpm1] [--reset] [--state DIR] [--display gtk|sdl|vnc=:0|none] [--init FILE]`);
  }
  return args;
}

/** A stand-in /init (--init) gets its own initramfs under .build/, leaving dist/ alone. */
async function customInitramfs(board: string, binary: string): Promise<string> {
  const out = join(buildDir, `initramfs-${board}-custom.cpio.xz`);
  process.stderr.write(`Building ${out} ...\n`);
  await buildInitramfs({ board, bootwardBinary: binary, outFile: out });
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  // Everything the build and the board run, in one apt-get, before anything starts.
  ensureTools(START_TOOLS);
  let initramfs: string;
  if (args.init !== undefined) {
    if (!existsSync(args.init)) throw new UsageError(`${args.init} does not exist`);
    initramfs = await customInitramfs(args.board, args.init);
  } else {
    await build({ boards: [args.board], initrd: true });
    initramfs = join(distDir, `initramfs-${args.board}.cpio.xz`);
  }
  const kernel = await kernelImage();
  const stateDir = args.state ?? join(repoRoot, ".state", args.board);
  if (args.reset) rmSync(stateDir, { recursive: true, force: true });
  const disk = join(stateDir, "disk.img");
  if (!existsSync(disk)) {
    process.stderr.write(`Making the demo disk ${disk} ...\n`);
    await makeDemoDisk({ outFile: disk });
  }
  process.stderr.write(
    `Booting ${args.board} (state in ${stateDir}). The console is this terminal: a reboot restarts the board, power off or Ctrl-A x ends the run, Ctrl-A c toggles the QEMU monitor.\n`,
  );
  // A reboot in the guest (the end of the OEM reset, Reboot, `reboot` in the recovery shell)
  // restarts the board with the same TPM, disk and flash; power off ends QEMU and swtpm.
  const board = await startQemu({ board: args.board, kernel: kernel.path, initramfs, disk, stateDir, interactive: true, display: args.display, onReboot: "restart" });
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
