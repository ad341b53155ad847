// Turns the bundle into one static musl executable, reproducibly.
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { buildEngine, type Engine, type EngineVariant, type EngineVersion } from "./quickjs.ts";
import { NATIVE_INIT, NATIVE_MODULE, nativeSources, type NativeSources } from "./native.ts";
import { buildDir, repoRoot } from "./paths.ts";
import { run } from "./run.ts";

export type CompileMode = "bytecode" | "source";

export interface CompileOptions {
  bundle: string;
  outFile: string;
  mode?: CompileMode;
  variant?: EngineVariant;
  /** Which pinned QuickJS; the default engine unless a comparison asks for another. */
  engine?: EngineVersion;
  /** Prepend QuickJS's "use strip" directive: no line tables or source kept in the bytecode. */
  strip?: boolean;
  /** Extra -D flags for the native module (a test builds the portable SHA-256 path with one). */
  defines?: string[];
}

// Chosen by build/measure-engine.ts (openpgp + otplib + ink + React, all imported):
//   bytecode -O2 strip  1.70 MB, 683 KB xz, ~147 ms CPU to evaluate every module
//   bytecode -Os strip  1.47 MB, 602 KB xz, ~192 ms
//   source   -O2 strip  1.73 MB, 627 KB xz, ~365 ms
//   source   -Os strip  1.51 MB, 546 KB xz, ~499 ms
// All fit the size budget; start-up does not forgive parsing source at every boot, and -Os
// also makes the pure-JS crypto slower. "use strip" saves 100 KB and only costs line numbers.
export const DEFAULT_MODE: CompileMode = "bytecode";
export const DEFAULT_VARIANT: EngineVariant = "O2";

// Evaluates the embedded source as an ES module with std, os and our native module available,
// as qjsc's generated main does for bytecode. Kept as a template so both modes share one engine setup.
const SOURCE_MAIN = `#include <string.h>
#include "quickjs-libc.h"

extern JSModuleDef *js_init_module_${NATIVE_INIT}(JSContext *ctx, const char *name);

extern const unsigned char bootward_source[];
extern const unsigned int bootward_source_len;

int main(int argc, char **argv)
{
  JSRuntime *rt = JS_NewRuntime();
  JSContext *ctx;
  JSValue result;
  js_std_init_handlers(rt);
  ctx = JS_NewContext(rt);
  js_init_module_std(ctx, "std");
  js_init_module_os(ctx, "os");
  js_init_module_${NATIVE_INIT}(ctx, "${NATIVE_MODULE}");
  js_std_add_helpers(ctx, argc, argv);
  result = JS_Eval(ctx, (const char *)bootward_source, bootward_source_len, "bootward.mjs",
                   JS_EVAL_TYPE_MODULE);
  if (JS_IsException(result)) {
    js_std_dump_error(ctx);
    return 1;
  }
  JS_FreeValue(ctx, result);
  js_std_loop(ctx);
  JS_FreeContext(ctx);
  JS_FreeRuntime(rt);
  return 0;
}
`;

/** The bundle as a C array; the trailing NUL lets JS_Eval read it as a C string. */
function sourceAsC(source: Uint8Array): string {
  const lines: string[] = ["const unsigned char bootward_source[] = {"];
  for (let i = 0; i < source.length; i += 24) {
    lines.push(Array.from(source.subarray(i, i + 24), (b) => `0x${b.toString(16).padStart(2, "0")},`).join(""));
  }
  lines.push("0x00};", `const unsigned int bootward_source_len = ${source.length};`, "");
  return lines.join("\n");
}

function optimiseFlag(variant: EngineVariant): string {
  return variant === "Os" ? "-Os" : "-O2";
}

export async function compileBinary(opts: CompileOptions): Promise<{ bytes: number; xzBytes: number }> {
  const mode = opts.mode ?? DEFAULT_MODE;
  const variant = opts.variant ?? DEFAULT_VARIANT;
  const strip = opts.strip ?? true;
  const engine = await buildEngine({ variant, version: opts.engine });
  const native = await nativeSources();
  // A fresh work directory per compile, so two builds at once (a test, the main build, even of
  // the same output) never share one; -ffile-prefix-map keeps its name out of the binary.
  await mkdir(join(buildDir, "compile"), { recursive: true });
  const work = await mkdtemp(join(buildDir, "compile", `${mode}-${variant}${strip ? "-strip" : ""}-`));
  try {
    return await compileIn(work, opts, mode, variant, strip, engine, native);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function compileIn(work: string, opts: CompileOptions, mode: CompileMode, variant: EngineVariant, strip: boolean, engine: Engine, native: NativeSources): Promise<{ bytes: number; xzBytes: number }> {

  let source = await readFile(opts.bundle);
  if (strip) source = Buffer.concat([Buffer.from('"use strip";\n'), source]);
  const cFiles: string[] = [];
  if (mode === "bytecode") {
    // qjsc names the module after its argument: a relative name keeps the path out.
    await writeFile(join(work, "bootward.mjs"), source);
    await run([engine.qjsc, "-e", "-m", "-M", `${NATIVE_MODULE},${NATIVE_INIT}`, "-o", "app.c", "bootward.mjs"], { cwd: work, what: "Compiling the bundle to bytecode (qjsc)" });
    cFiles.push("app.c");
  } else {
    await writeFile(join(work, "main.c"), SOURCE_MAIN);
    await writeFile(join(work, "source.c"), sourceAsC(source));
    cFiles.push("main.c", "source.c");
  }

  const tmp = join(work, "bootward.out");
  await run(
    [
      "musl-gcc",
      "-static",
      optimiseFlag(variant),
      "-flto",
      "-D_GNU_SOURCE",
      `-I${engine.include}`,
      // Paths and random seeds are the two ways a checkout leaks into object files.
      // GCC applies the last matching map: the checkout's own files first, the trees inside it after.
      `-ffile-prefix-map=${repoRoot}=.`,
      `-ffile-prefix-map=${work}=.`,
      `-ffile-prefix-map=${engine.dir}=quickjs`,
      `-ffile-prefix-map=${native.dir}=libsodium`,
      "-frandom-seed=bootward",
      ...native.flags,
      ...(opts.defines ?? []).map((d) => `-D${d}`),
      "-Wl,--build-id=none",
      "-o",
      tmp,
      ...cFiles,
      ...native.files,
      engine.lib,
      "-lm",
      "-ldl",
      "-lpthread",
    ],
    { cwd: work, what: "Linking the bootward binary (musl-gcc)", fix: "install the toolchain with: apt-get install -y musl-tools" },
  );
  await run(["strip", "--strip-all", "-R", ".comment", tmp], { cwd: work, what: "Stripping the bootward binary" });
  await chmod(tmp, 0o755);

  const xzFile = join(work, "bootward.xz");
  await run(["xz", "-9", "--check=crc32", "-k", "-f", "-T1", tmp], { cwd: work, what: "Measuring the xz size" });
  await rename(`${tmp}.xz`, xzFile);

  await mkdir(dirname(opts.outFile), { recursive: true });
  const staged = join(dirname(opts.outFile), `.${basename(opts.outFile)}.${process.pid}.tmp`);
  try {
    await copyFile(tmp, staged);
    await chmod(staged, 0o755);
    await rename(staged, opts.outFile);
  } finally {
    // Gone after the rename; after a failed copy (a full disk) no half binary stays in dist/.
    await rm(staged, { force: true });
  }
  return { bytes: (await stat(opts.outFile)).size, xzBytes: (await stat(xzFile)).size };
}
