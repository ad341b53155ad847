// Boot Loader Specification entries (loader/entries/*.conf, Fedora and friends) → boot
// entries. Keys: title, linux, initrd (repeatable), options (repeatable, joined). `$name`
// and `${name}` in values expand from the GRUB environment (grubenv), where Fedora keeps
// `kernelopts`, with grub.cfg's `set default_kernelopts=…` as the fallback for kernelopts;
// unknown variables expand to empty. Differences from Heads (kexec-parse-bls.sh): several
// initrd lines are all kept (Heads keeps the last), every variable is expanded (Heads only
// `$kernelopts`, leaving e.g. `$tuned_params` for its later eval), and `@` in kernelopts is
// kept (Heads turns it into `_`, which breaks `rootflags=subvol=@`). A missing title falls
// back to the file name, as the specification says.
import { lexGrub } from "./grub-lexer.ts";
import { checkSize, collapse, finishEntry, fixPath, pushEntry, type Draft } from "./common.ts";
import type { ParseOptions } from "./grub.ts";
import { BootConfigError, LIMITS, type BootEntry, type ParseResult } from "./types.ts";

/** GRUB environment block: `name=value` lines, `#` padding and comments. */
export function parseGrubenv(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line === "" || line.charAt(0) === "#") continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const name = line.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
    // grub-editenv writes a backslash as `\\` and a newline as `\` + newline.
    vars.set(name, line.slice(eq + 1).replace(/\\(.)/g, "$1"));
  }
  return vars;
}

/** The value of grub.cfg's `set default_kernelopts=…`, quotes removed, or undefined. */
export function defaultKernelopts(grubCfg: string, source: string): string | undefined {
  const match = /^[ \t]*set[ \t]+default_kernelopts=.*$/m.exec(grubCfg);
  if (!match) return undefined;
  for (const token of lexGrub(match[0], source)) {
    if (token.kind !== "word") continue;
    const text = token.word.parts.map((p) => (p.variable ? "" : p.text)).join("");
    if (text.startsWith("default_kernelopts=")) return text.slice("default_kernelopts=".length);
  }
  return undefined;
}

/** Variables BLS entries may use: the grubenv ones, plus kernelopts from grub.cfg if grubenv lacks it. */
export function blsVariables(grubenv?: string, grubCfg?: { text: string; source: string }): Map<string, string> {
  const vars = grubenv === undefined ? new Map<string, string>() : parseGrubenv(grubenv);
  if (!vars.has("kernelopts") && grubCfg) {
    const fallback = defaultKernelopts(grubCfg.text, grubCfg.source);
    if (fallback !== undefined) vars.set("kernelopts", fallback);
  }
  return vars;
}

function expandVars(value: string, vars: Map<string, string>, source: string, line: number): string {
  const out = value.replace(/\$\{([A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, b: string | undefined) =>
    vars.get(a ?? b ?? "") ?? "");
  if (out.length > LIMITS.maxLine) throw new BootConfigError(source, line, "a value longer than any real boot entry");
  return out;
}

/** One `loader/entries/*.conf` file; `source` is its path relative to the boot dir. */
export function parseBls(
  text: string,
  source: string,
  vars: Map<string, string> = new Map(),
  options: ParseOptions = {},
): ParseResult {
  checkSize(text, source);
  const warnings: string[] = [];
  let title: string | null = null;
  let linux = "";
  let linuxLine = 1;
  const initrds: string[] = [];
  const optionParts: string[] = [];
  let sawOptions = false;

  text.split("\n").forEach((raw, k) => {
    const line = raw.replace(/\r$/, "").replace(/^[ \t]+|[ \t]+$/g, "");
    if (line === "" || line.charAt(0) === "#") return;
    const space = line.search(/[ \t]/);
    const key = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? "" : line.slice(space).replace(/^[ \t]+/, "");
    if (key === "title") title = value;
    else if (key === "linux") {
      linux = expandVars(value, vars, source, k + 1);
      linuxLine = k + 1;
    } else if (key === "initrd") {
      for (const p of collapse(expandVars(value, vars, source, k + 1)).split(" ")) if (p !== "") initrds.push(p);
    } else if (key === "options") {
      sawOptions = true;
      optionParts.push(expandVars(value, vars, source, k + 1));
    }
  });

  const entries: BootEntry[] = [];
  const kernel = collapse(linux).split(" ")[0] ?? "";
  if (kernel === "") return { entries, warnings };
  const base = source.slice(source.lastIndexOf("/") + 1).replace(/\.conf$/, "");
  const kernelPath = fixPath(kernel, "");
  const initrdPaths = initrds.map((p) => fixPath(p, ""));
  for (const path of [kernelPath, ...initrdPaths]) {
    if (options.exists && !options.exists(path)) {
      warnings.push(`${source} line ${linuxLine}: entry "${title ?? base}" skipped: ${path} does not exist.`);
      return { entries, warnings };
    }
  }
  const draft: Draft = {
    name: title ?? base, submenu: [], source: { file: source, line: linuxLine }, loader: "bls", type: "linux",
    kernel: kernelPath, args: sawOptions ? optionParts.join(" ") : vars.get("kernelopts") ?? "",
    initrds: initrdPaths, modules: [],
  };
  pushEntry(entries, finishEntry(draft, warnings), source, linuxLine);
  return { entries, warnings };
}
