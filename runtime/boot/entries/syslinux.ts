// syslinux/isolinux/extlinux configuration → boot entries, the way Heads reads it: `label`
// starts an entry, a blank line or the next `label` ends it, `menu label` names it (`^`
// hotkey marks removed), `kernel`/`linux` and `initrd` name the files, `append` is the
// command line, from which `initrd=` is taken when no `initrd` line was given. A `*.c32`
// kernel is a syslinux module, not an OS, so the entry is skipped — except `mboot.c32`,
// whose `append` lists `xen args --- kernel args --- initrd`. Relative paths are resolved
// against the configuration file's folder. Unlike Heads, `text help … endtext` blocks are
// skipped so help text cannot be read as commands, keywords are matched as whole words in
// any case, and CRLF line ends are accepted. `---` stays in the append line, as Heads
// writes it (the kexec step removes it).
import {
  checkSize, configDir, finishEntry, fixPath, multibootType, pushEntry, type Draft,
} from "./common.ts";
import type { ParseOptions } from "./grub.ts";
import type { BootEntry, BootModule, ParseResult } from "./types.ts";

interface Pending {
  name: string;
  line: number;
  xen: boolean;
  kernel: string;
  kernelArgs: string;
  initrd: string;
  append: string;
  modules: BootModule[];
}

export function parseSyslinux(text: string, source: string, options: ParseOptions = {}): ParseResult {
  checkSize(text, source);
  const warnings: string[] = [];
  const entries: BootEntry[] = [];
  const dir = configDir(source);
  let entry: Pending | null = null;
  let inHelp = false;

  const finish = () => {
    if (!entry) return;
    const e = entry;
    entry = null;
    if (e.kernel === "") return;
    let initrdText = e.initrd;
    let append = e.append;
    if (initrdText === "") {
      const kept: string[] = [];
      for (const word of append.split(/[ \t]+/)) {
        if (word.startsWith("initrd=")) initrdText = word.slice(7);
        else if (word !== "") kept.push(word);
      }
      append = kept.join(" ");
    }
    const kernel = fixPath(e.kernel, dir);
    const initrds = initrdText.split(/[ \t,]+/).filter((p) => p !== "").map((p) => fixPath(p, dir));
    for (const path of e.xen ? [kernel] : [kernel, ...initrds]) {
      if (options.exists && !options.exists(path)) {
        warnings.push(`${source} line ${e.line}: entry "${e.name.trim()}" skipped: ${path} does not exist.`);
        return;
      }
    }
    const draft: Draft = e.xen
      ? {
        name: e.name, submenu: [], source: { file: source, line: e.line }, loader: "syslinux",
        type: multibootType(kernel), kernel, args: e.kernelArgs, initrds: [], modules: e.modules,
      }
      : {
        name: e.name, submenu: [], source: { file: source, line: e.line }, loader: "syslinux",
        type: "linux", kernel, args: append, initrds, modules: [],
      };
    pushEntry(entries, finishEntry(draft, warnings), source, e.line);
  };

  const lines = text.split("\n");
  for (let k = 0; k < lines.length; k += 1) {
    const lineNo = k + 1;
    const line = lines[k]!.replace(/\r$/, "").replace(/^[ \t]+|[ \t]+$/g, "");
    const space = line.search(/[ \t]/);
    const keyword = (space < 0 ? line : line.slice(0, space)).toLowerCase();
    const value = space < 0 ? "" : line.slice(space).replace(/^[ \t]+/, "");

    if (inHelp) {
      if (keyword === "endtext") inHelp = false;
      continue;
    }
    if (keyword === "text" && value.toLowerCase() === "help") {
      inHelp = true;
      continue;
    }
    if (keyword === "label") {
      finish();
      entry = { name: value, line: lineNo, xen: false, kernel: "", kernelArgs: "", initrd: "", append: "", modules: [] };
      continue;
    }
    if (!entry) continue;
    const current: Pending = entry;
    if (line === "") {
      finish();
    } else if (keyword === "menu") {
      const second = value.search(/[ \t]/);
      const sub = (second < 0 ? value : value.slice(0, second)).toLowerCase();
      if (sub === "label") current.name = (second < 0 ? "" : value.slice(second)).replace(/\^/g, "");
    } else if (keyword === "kernel" || keyword === "linux") {
      const path = value.split(/[ \t]+/)[0] ?? "";
      if (/(^|\/)mboot\.c32$/i.test(path)) current.xen = true;
      else if (/\.c32$/i.test(path)) entry = null;
      else current.kernel = path;
    } else if (keyword === "initrd") {
      current.initrd = value;
    } else if (keyword === "append") {
      if (current.xen) xenAppend(current, value, dir);
      else current.append = value;
    }
  }
  finish();
  return { entries, warnings };
}

/** `append xen.gz args --- vmlinuz args --- initrd.img`: hypervisor first, then modules. */
function xenAppend(entry: Pending, value: string, dir: string): void {
  const pieces = value.split(/[ \t]+---[ \t]+|[ \t]+---$/);
  pieces.forEach((piece, k) => {
    const words = piece.split(/[ \t]+/).filter((w) => w !== "");
    if (words.length === 0) return;
    if (k === 0 && entry.kernel === "") {
      entry.kernel = words[0]!;
      entry.kernelArgs = words.slice(1).join(" ");
    } else {
      entry.modules.push({ path: fixPath(words[0]!, dir), args: words.slice(1).join(" ") });
    }
  });
}
