// What each build output is made from, as one key per output (see build/outputs.ts): an
// output is rebuilt exactly when its key moves. The source of the code that makes an output
// is part of its key, so editing a builder rebuilds what it builds.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildKey, sourceParts } from "./outputs.ts";
import { repoRoot } from "./paths.ts";
import { DEFAULT_MODE, DEFAULT_VARIANT } from "./compile.ts";
import { QUICKJS_SOURCE } from "./quickjs.ts";
import { NATIVE_C, SODIUM_SOURCE } from "./native.ts";
import { configText, modulesText, type Board } from "../initrd/boards.ts";
import type { InitrdCompression } from "../initrd/compression.ts";

const here = (...parts: string[]) => join(repoRoot, ...parts);

const BUNDLE_BUILDERS = [here("build/bundle.ts")];
/** How esbuild resolves and transforms: the installed packages, the root manifest, tsconfig's JSX and target settings. */
const BUNDLE_SETTINGS = ["package-lock.json", "package.json", "tsconfig.json"].map((f) => here(f));
const BINARY_BUILDERS = [here("build/compile.ts"), here("build/quickjs.ts"), here("build/native.ts"), NATIVE_C];
// boards.ts is not among them: a board enters its image through its definition and the
// files rendered from it (initramfsKey), so editing one board's config rebuilds that board only.
const INITRAMFS_BUILDERS = [...["image.ts", "elf.ts", "debian.ts", "compression.ts"].map((f) => here("initrd", f)), here("lib", "cpio.ts")];

/**
 * The bundle is made from every file esbuild read (its metafile's inputs, relative to the
 * checkout, as recorded by the last bundling) plus how it was asked to read them. Null when
 * one of those files is gone: the imports changed, so only esbuild can say what it reads now.
 */
export function bundleKey(inputs: readonly string[], options: Record<string, unknown>): string | null {
  try {
    return buildKey([
      "bundle", options, ...sourceParts(BUNDLE_BUILDERS), ...sourceParts(BUNDLE_SETTINGS),
      ...inputs.flatMap((input) => [input, readFileSync(here(input))]),
    ]);
  } catch {
    return null;
  }
}

/** The binary is made from the bundle, the engine and the compile code and options. */
export function binaryKey(bundleBytes: Uint8Array): string {
  return buildKey([
    "bootward", bundleBytes, ...sourceParts(BINARY_BUILDERS),
    { quickjs: QUICKJS_SOURCE.sha256, libsodium: SODIUM_SOURCE.sha256, mode: DEFAULT_MODE, variant: DEFAULT_VARIANT },
  ]);
}

/**
 * A board's initramfs is made from the binary, the pinned packages, the board (its definition
 * and its /etc/config and /etc/modules as written), the compressor and the image code.
 */
export function initramfsKey(board: Board, binaryBytes: Uint8Array, lockBytes: Uint8Array, compression: InitrdCompression): string {
  return buildKey([
    `initramfs-${board.name}`, binaryBytes, lockBytes, { board, compression }, configText(board), modulesText(board),
    ...sourceParts(INITRAMFS_BUILDERS),
  ]);
}
