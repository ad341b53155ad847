// Bundles the firmware entry for QuickJS: one ESM file, `std`/`os` left to the engine,
// and every library that expects a browser or Node pointed at the shims in
// runtime/host/quickjs/ (the only place they live).
import { build, type Plugin } from "esbuild";
import { readFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { BuildError } from "./errors.ts";
import { repoRoot } from "./paths.ts";

const shimDir = join(repoRoot, "runtime/host/quickjs/node");
const moduleDir = join(repoRoot, "node_modules");
const requireFromRoot = createRequire(join(repoRoot, "package.json"));

/** Node built-ins that ink and its helpers import, and the stub each one gets. */
const NODE_STUBS: Record<string, string> = {
  process: "process.ts",
  buffer: "buffer.ts",
  stream: "stream.ts",
  tty: "tty.ts",
  os: "os.ts",
  assert: "assert.ts",
  fs: "unavailable.ts",
  "fs/promises": "unavailable.ts",
  child_process: "unavailable.ts",
  module: "unavailable.ts",
  url: "unavailable.ts",
};

function resolvePackageFile(spec: string): string {
  try {
    return requireFromRoot.resolve(spec);
  } catch {
    throw new BuildError(`Cannot find ${spec} in node_modules; run npm ci.`);
  }
}

/**
 * Text edits on library sources, each checked so a library update that moves the code
 * fails the build instead of shipping an unpatched module.
 */
const SOURCE_PATCHES: { file: RegExp; edits: [string, string][]; why: string }[] = [
  {
    // QuickJS 2021 has no top-level await; both awaits only run when DEV=true.
    file: /[\\/]node_modules[\\/]ink[\\/]build[\\/]reconciler\.js$/,
    why: "ink's dev-only top-level await",
    edits: [
      ["await import('./devtools.js');", "void 0;"],
      ["? await loadPackageJson()", "? { name: undefined, version: undefined }"],
    ],
  },
];

function firmwarePlugin(): Plugin {
  const yoga = resolvePackageFile("yoga-layout/asmjs-sync").replace(/asmjs-sync-node\.js$/, "asmjs-sync-web.js");
  const stringWidth = join(moduleDir, "string-width/index.js");
  const fastStringWidth = join(repoRoot, "runtime/host/quickjs/string-width.ts");
  const emptyModule = join(shimDir, "empty.ts");
  return {
    name: "bootward-firmware",
    setup(b) {
      b.onResolve({ filter: /^(std|os)$/ }, (args) => {
        // Our host code means QuickJS's modules; a library asking for Node's os gets the stub.
        if (args.path === "os" && args.importer.includes(`${join("node_modules")}`)) {
          return { path: join(shimDir, NODE_STUBS.os!) };
        }
        return { path: args.path, external: true };
      });
      // Compiled into the binary (runtime/host/quickjs/native.c), like std and os.
      b.onResolve({ filter: /^bootward:native$/ }, (args) => ({ path: args.path, external: true }));
      b.onResolve({ filter: /^node:/ }, (args) => {
        const name = args.path.slice("node:".length);
        if (name === "events") return { path: resolvePackageFile("events/events.js") };
        const stub = NODE_STUBS[name];
        if (!stub) return { errors: [{ text: `${args.importer} imports ${args.path}, which has no QuickJS stub in runtime/host/quickjs/node/` }] };
        return { path: join(shimDir, stub) };
      });
      b.onResolve({ filter: /^(process|buffer|stream|tty|assert|fs|child_process|module)$/ }, (args) => ({
        path: join(shimDir, NODE_STUBS[args.path]!),
      }));
      b.onResolve({ filter: /^yoga-layout$/ }, () => ({ path: join(repoRoot, "runtime/host/quickjs/yoga.ts") }));
      b.onResolve({ filter: /^yoga-layout\/asmjs-sync$/ }, () => ({ path: yoga }));
      // Every importer gets the fast wrapper; the wrapper itself gets the package.
      b.onResolve({ filter: /^string-width$/ }, (args) => ({ path: args.importer === fastStringWidth ? stringWidth : fastStringWidth }));
      // The browser build of openpgp: it finds Web Crypto on `self`, where the shims put it;
      // the Node build would import node:crypto.
      b.onResolve({ filter: /^openpgp$/ }, () => ({ path: join(moduleDir, "openpgp/dist/openpgp.mjs") }));
      b.onResolve({ filter: /^(react-devtools-core|ws)$/ }, () => ({ path: emptyModule }));
      b.onResolve({ filter: /^#supports-color$/ }, async (args) => {
        // chalk's browser variant turns colours off; the Node one reads the tty and env.
        const root = args.importer.slice(0, args.importer.lastIndexOf(`${join("node_modules", "chalk")}`) + "node_modules/chalk".length);
        const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
          imports?: Record<string, { node?: string }>;
        };
        const target = manifest.imports?.["#supports-color"]?.node;
        if (!target) return { errors: [{ text: `${root} has no node variant of #supports-color; update build/bundle.ts.` }] };
        return { path: join(root, target) };
      });
      for (const patch of SOURCE_PATCHES) {
        b.onLoad({ filter: patch.file }, async (args) => {
          let text = await readFile(args.path, "utf8");
          for (const [from, to] of patch.edits) {
            if (!text.includes(from)) {
              return { errors: [{ text: `Cannot strip ${patch.why} in ${args.path}: the library changed; update build/bundle.ts.` }] };
            }
            text = text.replace(from, to);
          }
          return { contents: text, loader: "js" };
        });
      }
    },
  };
}

export interface BundleOptions {
  entry: string;
  outFile: string;
  minify?: boolean;
}

export interface Bundled {
  bytes: number;
  /** Every file esbuild read, relative to the checkout, sorted: what the bundle is made from. */
  inputs: string[];
}

export async function bundle(opts: BundleOptions): Promise<Bundled> {
  await mkdir(dirname(opts.outFile), { recursive: true });
  // Per process: two builds of one checkout at once (npm test and a test's own build) never share it.
  const tmp = `${opts.outFile}.tmp-${process.pid}`;
  let inputs: string[];
  try {
    const result = await build({
      entryPoints: [opts.entry],
      outfile: tmp,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2020",
      mainFields: ["module", "main"],
      conditions: ["import", "default"],
      minify: opts.minify ?? true,
      legalComments: "none",
      sourcemap: false,
      logLevel: "silent",
      absWorkingDir: repoRoot,
      jsx: "automatic",
      define: { "process.env.NODE_ENV": '"production"' },
      plugins: [firmwarePlugin()],
      metafile: true,
    });
    inputs = Object.keys(result.metafile.inputs).sort();
  } catch (error) {
    await rm(tmp, { force: true });
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : "";
    const text = first?.text ?? String(error);
    const fix = /no space left on device/i.test(text) ? "; the disk is full, free some space and run the build again" : "";
    throw new BuildError(`Bundling ${opts.entry} failed: ${text}${where}${fix}.`);
  }
  await rename(tmp, opts.outFile);
  return { bytes: (await stat(opts.outFile)).size, inputs };
}
