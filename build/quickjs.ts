// Builds the QuickJS engine (qjsc + the static library) from pinned sources, with musl.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "./errors.ts";
import { buildDir, cacheDir } from "./paths.ts";
import { run } from "./run.ts";
import { ensureTools, installLine } from "../initrd/host-tools.ts";

export type EngineVariant = "O2" | "Os";

export interface QuickJsSource {
  version: string;
  tarball: string;
  sha256: string;
  /** Leading path components of the source tree inside the tarball, dropped on extraction. */
  innerDir: string;
  /** Argv that leaves `tarball` in the directory given; only downloads, never runs package code. */
  download: (dest: string) => string[];
}

/**
 * The pinned engines the firmware can be built with; the default is the one measured and
 * shipped. `npx tsx bench/engines.ts` (in `npm run bench`) builds the same bundle with each.
 * Measured 2026-12-05 on the 2-core machine, 2021-03-27 vs 2025-04-26: binary 814 vs 1026 KiB
 * xz (budget 900); first frame 178 vs 181 ms (UI alone), 497 vs 530 ms (swtpm on a pty);
 * key → redraw 18 vs 16 ms; `boot verify` over 102 MB 282 vs 276 ms (both 1.06× sha256sum).
 * The newer engine is no faster where it counts and does not fit the flash budget: 2021-03-27.
 */
export const QUICKJS_ENGINES = {
  /** As carried by the npm tarball qjsc@0.3.0 (npm tarballs never change). */
  "2021-03-27": {
    version: "2021-03-27",
    tarball: "qjsc-0.3.0.tgz",
    sha256: "4a9ed1852b334d842d5dac42d1782817ae26310b448de39532451fd45c9ba0ee",
    innerDir: "package/deps/quickjs_2021_03_27",
    download: (dest) => ["npm", "pack", "qjsc@0.3.0", "--pack-destination", dest, "--ignore-scripts"],
  },
  /** Debian trixie's orig tarball; the hash is the one in quickjs_2025.04.26-1.dsc's Checksums-Sha256. */
  "2025-04-26": {
    version: "2025-04-26",
    tarball: "quickjs_2025.04.26.orig.tar.xz",
    sha256: "ec81da5b3249ed648dbc7df4a1654988910e66a118d9b71cb63534216efcfbbe",
    innerDir: "quickjs-2025.04.26",
    download: (dest) => [
      "curl", "-fsSL", "-o", join(dest, "quickjs_2025.04.26.orig.tar.xz"),
      "https://deb.debian.org/debian/pool/main/q/quickjs/quickjs_2025.04.26.orig.tar.xz",
    ],
  },
} as const satisfies Record<string, QuickJsSource>;

export type EngineVersion = keyof typeof QUICKJS_ENGINES;
export const DEFAULT_ENGINE: EngineVersion = "2021-03-27";
export const QUICKJS_SOURCE: QuickJsSource = QUICKJS_ENGINES[DEFAULT_ENGINE];

const ENGINE_TOOLS = ["musl-gcc", "make", "gcc", "gcc-ar"];

export interface Engine {
  /** The configured source tree, also the include directory. */
  dir: string;
  qjsc: string;
  /** libquickjs.lto.a: LTO objects, so the final link optimises engine and app together. */
  lib: string;
  include: string;
  variant: EngineVariant;
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * A pinned download in .cache/: fetched once by `download` (which leaves `name` in the scratch
 * directory it is given), then checked by hash on every use; returns its path.
 */
export async function cachedDownload(name: string, sha256: string, download: (scratch: string) => Promise<void>): Promise<string> {
  const file = join(cacheDir, name);
  if (!existsSync(file)) {
    await mkdir(cacheDir, { recursive: true });
    // Into a scratch directory, then renamed: an interrupted download never sits in .cache/
    // under the name of a finished one.
    const scratch = await mkdtemp(join(cacheDir, ".download-"));
    try {
      await download(scratch);
      await rename(join(scratch, name), file);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  await checkSha256(file, sha256);
  return file;
}

/** Gets an engine's tarball into .cache/ (once) and checks its hash; returns its path. */
export function fetchQuickJsSource(source: QuickJsSource = QUICKJS_SOURCE): Promise<string> {
  return cachedDownload(source.tarball, source.sha256, async (scratch) => {
    await run(source.download(scratch), {
      what: `Downloading QuickJS ${source.version}`,
      fix: "check that the npm registry and deb.debian.org are reachable",
    });
  });
}

/** Stops the build when a pinned download does not have the hash it was pinned with. */
export async function checkSha256(file: string, expected: string): Promise<void> {
  const actual = sha256(await readFile(file));
  if (actual !== expected) {
    throw new BuildError(
      `${file} has sha256 ${actual}, expected ${expected}; delete it and rebuild, and if it persists the download was tampered with.`,
    );
  }
}

function optimiseFlag(variant: EngineVariant): string {
  return variant === "Os" ? "-Os" : "-O2";
}

/**
 * The Makefile's own flags plus ours. Patched in rather than passed on the make command
 * line, because a command-line CFLAGS would silently drop the Makefile's `+=` additions
 * (defines, CONFIG_BIGNUM, -flto).
 */
function patchMakefile(text: string, variant: EngineVariant, dir: string): string {
  const line = "CFLAGS_OPT=$(CFLAGS) -O2";
  if (!text.includes(line)) {
    throw new BuildError("The QuickJS Makefile no longer has the expected CFLAGS_OPT line; the pinned source changed, update build/quickjs.ts.");
  }
  // The prefix map keeps the checkout path out of assert() strings and debug info.
  const extra = `${optimiseFlag(variant)} -ffile-prefix-map=${dir}=quickjs -frandom-seed=quickjs`;
  return text.replace(line, `CFLAGS_OPT=$(CFLAGS) ${extra}`);
}

/** Builds qjsc and the static library for one variant; a finished build is reused. */
export async function buildEngine(opts: { variant?: EngineVariant; version?: EngineVersion } = {}): Promise<Engine> {
  const variant = opts.variant ?? "O2";
  const source: QuickJsSource = QUICKJS_ENGINES[opts.version ?? DEFAULT_ENGINE];
  // The entry points ensure these already; a caller that did not (a test, a tool) gets the same line.
  ensureTools(ENGINE_TOOLS);
  const tarball = await fetchQuickJsSource(source);
  const makeArgs = ["CC=musl-gcc", "AR=gcc-ar", "LDFLAGS=-flto -static", "CONFIG_BIGNUM=y", "CONFIG_LTO=y"];
  const key = sha256(new TextEncoder().encode(JSON.stringify([source.sha256, variant, makeArgs, 1]))).slice(0, 16);
  const dir = join(buildDir, `quickjs-${source.version}-${variant}-${key}`);
  const engine: Engine = {
    dir,
    qjsc: join(dir, "qjsc"),
    lib: join(dir, "libquickjs.lto.a"),
    include: dir,
    variant,
  };
  const stamp = join(dir, ".bootward-built");
  if (existsSync(stamp) && existsSync(engine.qjsc) && existsSync(engine.lib)) return engine;

  // Build in a scratch directory and rename, so an interrupted build is never reused.
  const scratch = `${dir}.tmp`;
  await rm(scratch, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const strip = source.innerDir.split("/").length;
  await run(["tar", "-xaf", tarball, "-C", scratch, `--strip-components=${strip}`, source.innerDir], {
    what: `Extracting ${source.tarball}`,
  });
  const makefile = join(scratch, "Makefile");
  await writeFile(makefile, patchMakefile(await readFile(makefile, "utf8"), variant, dir));
  await rename(scratch, dir);
  const jobs = "-j2";
  await run(["make", jobs, ...makeArgs, "qjsc", "libquickjs.lto.a"], {
    cwd: dir,
    env: { ...process.env, LC_ALL: "C", SOURCE_DATE_EPOCH: "0" },
    what: `Compiling QuickJS (${variant})`,
    fix: `install the toolchain with: ${installLine(ENGINE_TOOLS).line}`,
  });
  // The stamp says the engine is complete, so it must never exist half-written itself.
  await writeFile(`${stamp}.tmp`, `${key}\n`);
  await rename(`${stamp}.tmp`, stamp);
  return engine;
}
