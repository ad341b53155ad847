// Builds bootward: the bundle (esbuild), the static binary (QuickJS + musl) and the
// initramfs of a board. Each output is made again only when what it is made from changed
// (build/keys.ts, build/outputs.ts); the size lines say which were reused.
//
//     npx tsx build.ts [--board NAME | --all-boards] [--no-initrd] [--initrd-compression xz|none]
//
// --initrd-compression none writes dist/initramfs-<board>.cpio, which boots faster under QEMU's
// TCG than the default dist/initramfs-<board>.cpio.xz (initrd/compression.ts has the figures).
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "./build/bundle.ts";
import { buildDir, distDir, repoRoot } from "./build/paths.ts";
import { compileBinary } from "./build/compile.ts";
import { BuildError, explain } from "./build/errors.ts";
import { binaryKey, bundleKey, initramfsKey } from "./build/keys.ts";
import { OutputRecords, type Ensured } from "./build/outputs.ts";
import { buildInitramfs } from "./initrd/image.ts";
import { BOARDS as boards, DEFAULT_BOARD as defaultBoard, getBoard } from "./initrd/boards.ts";
import { COMPRESSIONS, DEFAULT_COMPRESSION, initramfsFileName, isCompression, type InitrdCompression } from "./initrd/compression.ts";
import { LOCK_PATH } from "./initrd/debian.ts";
import { BUILD_TOOLS, ensureTools } from "./initrd/host-tools.ts";

export interface BuildOptions {
  boards: string[];
  initrd: boolean;
  /** How the initramfs is compressed: xz (the default) for the smallest flash image, another for faster boots. */
  compression?: InitrdCompression;
}

const USAGE = `usage: npx tsx build.ts [--board NAME | --all-boards] [--no-initrd] [--initrd-compression ${Object.keys(COMPRESSIONS).join("|")}]`;

function parseArgs(argv: string[]): BuildOptions {
  const options: BuildOptions = { boards: [defaultBoard], initrd: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === "--board" && value !== undefined) {
      options.boards = [value];
      i++;
    } else if (arg === "--initrd-compression" && value !== undefined && isCompression(value)) {
      options.compression = value;
      i++;
    } else if (arg === "--all-boards") options.boards = Object.keys(boards);
    else if (arg === "--no-initrd") options.initrd = false;
    else throw new BuildError(`Unknown or incomplete argument "${arg}"; ${USAGE}`);
  }
  for (const board of options.boards) getBoard(board);
  return options;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const note = (made: Ensured<unknown>) => (made.reused ? "reused" : "rebuilt");

const records = new OutputRecords(join(buildDir, "outputs"));

const BUNDLE_ENTRY = "runtime/main.ts";

/** The bundle, reused without running esbuild when no file it was made from changed. */
async function ensureBundle(file: string): Promise<Ensured<{ bytes: number }>> {
  const name = "bootward.mjs";
  const options = { entry: BUNDLE_ENTRY };
  const previous = records.read<{ bytes: number }>(name);
  const key = previous?.inputs ? bundleKey(previous.inputs, options) : null;
  const kept = key === null ? null : records.reusable<{ bytes: number }>(name, file, key);
  if (kept !== null) return { info: kept.info, reused: true };
  records.forget(name);
  const made = await bundle({ entry: join(repoRoot, BUNDLE_ENTRY), outFile: file });
  const madeKey = bundleKey(made.inputs, options);
  // A file esbuild read was deleted while it ran: leave no record, so the next build bundles again.
  if (madeKey !== null) records.record(name, file, madeKey, { bytes: made.bytes }, made.inputs);
  return { info: { bytes: made.bytes }, reused: false };
}

/**
 * Bundle → binary → the boards' initramfs images, in dist/; prints the sizes and, for each
 * output, whether the one already there was reused or it was rebuilt.
 */
export async function build(options: BuildOptions): Promise<void> {
  mkdirSync(distDir, { recursive: true });
  const compression = options.compression ?? DEFAULT_COMPRESSION;

  const bundleFile = join(distDir, "bootward.mjs");
  const bundled = await ensureBundle(bundleFile);
  const binary = join(distDir, "bootward");
  const compiled = await records.ensure("bootward", binary, binaryKey(readFileSync(bundleFile)), () =>
    compileBinary({ bundle: bundleFile, outFile: binary }),
  );

  const lines = [
    `bundle     ${kib(bundled.info.bytes)}, ${note(bundled)}`,
    `bootward   ${kib(compiled.info.bytes)} raw, ${kib(compiled.info.xzBytes)} xz (budget 3072 KiB raw, 900 KiB xz: DESIGN.md), ${note(compiled)}`,
  ];
  if (options.initrd) {
    const binaryBytes = readFileSync(binary);
    const lock = readFileSync(LOCK_PATH);
    for (const board of options.boards) {
      const fileName = initramfsFileName(board, compression);
      const image = join(distDir, fileName);
      const key = initramfsKey(getBoard(board), binaryBytes, lock, compression);
      const made = await records.ensure(fileName, image, key, async () => ({
        bytes: (await buildInitramfs({ board, bootwardBinary: binary, outFile: image, compression })).bytes,
      }));
      lines.push(`initramfs  ${kib(made.info.bytes)} ${COMPRESSIONS[compression].label} (${board}), ${note(made)}`);
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
