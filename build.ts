// Builds bootward: the bundle (esbuild), the static binary (QuickJS + musl) and the
// initramfs of a board. `npx tsx build.ts [--board NAME | --all-boards] [--no-initrd]`.
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "./build/bundle.ts";
import { buildDir, distDir, repoRoot } from "./build/paths.ts";
import { compileBinary, DEFAULT_MODE, DEFAULT_VARIANT } from "./build/compile.ts";
import { QUICKJS_SOURCE } from "./build/quickjs.ts";
import { explain } from "./build/errors.ts";
import { buildKey, OutputRecords, sourceParts } from "./build/outputs.ts";
import { buildInitramfs } from "./initrd/image.ts";
import { BOARDS as boards, DEFAULT_BOARD as defaultBoard, getBoard, type Board } from "./initrd/boards.ts";
import { LOCK_PATH } from "./initrd/debian.ts";
import { BUILD_TOOLS, ensureTools } from "./initrd/host-tools.ts";


export interface BuildOptions {
  boards: string[];
  initrd: boolean;
}

function parseArgs(argv: string[]): BuildOptions {
  const options: BuildOptions = { boards: [defaultBoard], initrd: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--board" && argv[i + 1]) options.boards = [argv[++i]!];
    else if (arg === "--all-boards") options.boards = Object.keys(boards);
    else if (arg === "--no-initrd") options.initrd = false;
    else throw new Error(`build.ts: unknown argument "${arg}" (use --board NAME, --all-boards or --no-initrd)`);
  }
  for (const board of options.boards) {
    if (!boards[board]) throw new Error(`build.ts: unknown board "${board}"; boards: ${Object.keys(boards).join(", ")}`);
  }
  return options;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

const here = (...parts: string[]) => join(repoRoot, ...parts);

/** The code that makes each output: an edit to it changes the output's key. */
const BINARY_BUILDERS = [here("build/compile.ts"), here("build/quickjs.ts")];
const INITRAMFS_BUILDERS = ["image.ts", "cpio.ts", "boards.ts", "elf.ts", "debian.ts"].map((f) => here("initrd", f));

const records = new OutputRecords(join(buildDir, "outputs"));

/** The binary is made from the bundle, the engine and the compile code and options. */
export function binaryKey(bundleBytes: Uint8Array): string {
  return buildKey([
    "bootward", bundleBytes, ...sourceParts(BINARY_BUILDERS),
    { quickjs: QUICKJS_SOURCE.sha256, mode: DEFAULT_MODE, variant: DEFAULT_VARIANT },
  ]);
}

/** A board's initramfs is made from the binary, the pinned packages, the board and the image code. */
export function initramfsKey(board: Board, binaryBytes: Uint8Array, lockBytes: Uint8Array): string {
  return buildKey([`initramfs-${board.name}`, binaryBytes, lockBytes, { board }, ...sourceParts(INITRAMFS_BUILDERS)]);
}

/**
 * Bundle → binary → the boards' initramfs images, in dist/; prints the sizes. The bundle is
 * always made (esbuild takes a second); the binary and each image only when their key moved.
 */
export async function build(options: BuildOptions): Promise<void> {
  mkdirSync(distDir, { recursive: true });

  const bundleFile = join(distDir, "bootward.mjs");
  const bundled = await bundle({ entry: join(repoRoot, "runtime/main.ts"), outFile: bundleFile });
  const binary = join(distDir, "bootward");
  const key = binaryKey(readFileSync(bundleFile));
  let compiled = records.reusable<{ bytes: number; xzBytes: number }>("bootward", binary, key)?.info;
  const binaryNote = compiled ? "reused" : "rebuilt";
  if (!compiled) {
    records.forget("bootward");
    compiled = await compileBinary({ bundle: bundleFile, outFile: binary });
    records.record("bootward", binary, key, compiled);
  }

  const lines = [
    `bundle     ${kib(bundled.bytes)}`,
    `bootward   ${kib(compiled.bytes)} raw, ${kib(compiled.xzBytes)} xz (budget 2048 KiB raw, 900 KiB xz), ${binaryNote}`,
  ];
  if (options.initrd) {
    const binaryBytes = readFileSync(binary);
    const lock = readFileSync(LOCK_PATH);
    for (const board of options.boards) {
      const name = `initramfs-${board}`;
      const image = join(distDir, `${name}.cpio.xz`);
      const key = initramfsKey(getBoard(board), binaryBytes, lock);
      let made = records.reusable<{ bytes: number }>(name, image, key)?.info;
      const note = made ? "reused" : "rebuilt";
      if (!made) {
        records.forget(name);
        made = { bytes: (await buildInitramfs({ board, bootwardBinary: binary, outFile: image })).bytes };
        records.record(name, image, key, made);
      }
      lines.push(`initramfs  ${kib(made.bytes)} xz (${board}), ${note}`);
    }
  }
  console.log(lines.join("\n"));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  Promise.resolve()
    .then(() => {
      const options = parseArgs(process.argv.slice(2));
      // Every tool the build runs, in one apt-get, before anything is made.
      ensureTools(BUILD_TOOLS);
      return build(options);
    })
    .catch((error: unknown) => {
      console.error(`build failed: ${explain(error)}`);
      process.exit(1);
    });
}
