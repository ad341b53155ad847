// Builds bootward: the bundle (esbuild), the static binary (QuickJS + musl) and the
// initramfs of a board. `npx tsx build.ts [--board NAME | --all-boards] [--no-initrd]`.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "./build/bundle.ts";
import { distDir, repoRoot } from "./build/paths.ts";
import { compileBinary } from "./build/compile.ts";
import { buildInitramfs } from "./initrd/image.ts";
import { BOARDS as boards, DEFAULT_BOARD as defaultBoard } from "./initrd/boards.ts";


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

/** Bundle → binary → the boards' initramfs images, in dist/; prints the sizes. */
export async function build(options: BuildOptions): Promise<void> {
  mkdirSync(distDir, { recursive: true });

  const bundleFile = join(distDir, "bootward.mjs");
  const bundled = await bundle({ entry: join(repoRoot, "runtime/main.ts"), outFile: bundleFile });
  const binary = join(distDir, "bootward");
  const compiled = await compileBinary({ bundle: bundleFile, outFile: binary });

  const lines = [`bundle     ${kib(bundled.bytes)}`, `bootward   ${kib(compiled.bytes)} raw, ${kib(compiled.xzBytes)} xz (budget 2048 KiB raw, 900 KiB xz)`];
  if (options.initrd) {
    for (const board of options.boards) {
      const image = await buildInitramfs({ board, bootwardBinary: binary, outFile: join(distDir, `initramfs-${board}.cpio.xz`) });
      lines.push(`initramfs  ${kib(image.bytes)} xz (${board})`);
    }
  }
  console.log(lines.join("\n"));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  build(parseArgs(process.argv.slice(2))).catch((error: unknown) => {
    console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
