// The layering rules of DESIGN.md ("Layout" and the arrows under it) as one checker over a
// source tree, so that the test can run it on the real tree and on scratch trees that break
// each rule on purpose.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export type Rule =
  | "only host touches the system"
  | "tpm and gpg stand alone"
  | "tpm imports only tpm, lib and hashes"
  | "ui decides nothing"
  | "lib is pure"
  | "flows never import cli"
  | "modules stay below flows"
  | "host is the bottom"
  | "no backend class outside tpm"
  | "firmware never imports the build side"
  | "one rooted Sys, made by the command line";

export interface Violation {
  rule: Rule;
  file: string;
  imports: string;
}

const FIRMWARE = ["runtime", "tpm", "gpg", "ui", "lib"];
const BUILD_SIDE = ["build", "initrd", "test", "bench", "build.ts"];
/** The firmware's entry points: they sit where cli/ sits, above flows. */
const ENTRIES = new Set(["runtime/main.ts", "runtime/pid1/init.ts"]);
/** What sealing and the flows may use of tpm/'s insides besides its face. */
const TPM_FACE = new Set(["tpm/index.ts", "tpm/tpm2/policy.ts"]);
/** The transport contract runtime/host implements (device, swtpm socket); host may also use pure lib/. */
const TRANSPORT_CONTRACT = /^tpm\/(transport\/|errors\.ts$)/;
const SYSTEM_MODULES = /^(std|os|node:.*|bootward:native)$/;
/** Where --root becomes a Sys; everything else works on the Sys it is given, never on a root of its own. */
const ROOTS_THE_SYS = new Set(["runtime/cli/index.ts"]);

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(n) ? [p] : [];
  });
}

/** Module specifiers of static imports and re-exports, side-effect imports and dynamic imports. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+"([^"]+)"/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) found.push(m[1]!);
  return found;
}

const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/** Every broken rule in the tree at `root`, as (rule, file, import) with paths relative to root. */
export function layeringViolations(root: string): Violation[] {
  const out: Violation[] = [];
  for (const area of FIRMWARE) {
    for (const abs of sources(join(root, area))) {
      const file = relative(root, abs);
      for (const spec of importsOf(readFileSync(abs, "utf8"))) {
        const target = spec.startsWith(".") ? relative(root, join(abs, "..", spec)) : null;
        const bad = (rule: Rule) => out.push({ rule, file, imports: target ?? spec });
        const inside = (dir: string) => target !== null && under(target, dir);

        if (SYSTEM_MODULES.test(spec) && !under(file, "runtime/host")) bad("only host touches the system");
        if (target !== null && BUILD_SIDE.some((d) => under(target, d))) bad("firmware never imports the build side");
        if ((under(file, "tpm") || under(file, "gpg")) && (inside("runtime") || inside("ui"))) bad("tpm and gpg stand alone");
        if (under(file, "tpm") && !(inside("tpm") || inside("lib") || spec.startsWith("@noble/hashes/"))) bad("tpm imports only tpm, lib and hashes");
        if (under(file, "ui") && (inside("runtime") || inside("tpm") || inside("gpg"))) bad("ui decides nothing");
        if (under(file, "lib") && !inside("lib")) bad("lib is pure");
        const flowsOrAbove = inside("runtime/cli") || inside("runtime/flows") || (target !== null && ENTRIES.has(target));
        if (under(file, "runtime/flows") && (inside("runtime/cli") || (target !== null && ENTRIES.has(target)))) bad("flows never import cli");
        const isModule = under(file, "runtime") && !under(file, "runtime/cli") && !under(file, "runtime/flows") && !ENTRIES.has(file);
        if (isModule && flowsOrAbove) bad("modules stay below flows");
        if (under(file, "runtime/host") && target !== null && !inside("runtime/host") && !inside("lib") && !TRANSPORT_CONTRACT.test(target)) bad("host is the bottom");
        if (!under(file, "tpm") && target !== null && /^tpm\/tpm(2|12)\//.test(target) && !TPM_FACE.has(target)) bad("no backend class outside tpm");
        if (target === "runtime/host/rooted.ts" && !ROOTS_THE_SYS.has(file)) bad("one rooted Sys, made by the command line");
      }
    }
  }
  return out;
}
