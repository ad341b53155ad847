// Heads' entry line, the format of kexec_menu.txt and kexec_default.N.txt:
//   linux: `name|elf|kernel <path>[|initrd <path>]…[|append <cmdline>]`
//   Xen:   `name|xen|kernel <xen> <xen args>|module <kernel> <args>|module <initrd>`
// (`multiboot` in place of `xen` for other multiboot images). kexec-parse-boot.sh prints one
// `|initrd` field per initrd file and passes the whole line through `echo $(…)`, so every run
// of spaces, tabs and newlines becomes one space; the line written here matches it byte for
// byte. Parsing back is strict: the line is signed data read at boot, so anything bootward
// would not itself write (unknown fields, a path leaving /boot, control bytes) is refused.
import { cleanArgs, collapse, pathProblem } from "./common.ts";
import { BootConfigError, LIMITS, type BootEntry, type BootModule } from "./types.ts";

export function toHeadsLine(entry: BootEntry): string {
  const withArgs = (path: string, args: string) => (args === "" ? path : `${path} ${args}`);
  let line: string;
  if (entry.type === "linux") {
    line = `${entry.name}|elf|kernel ${entry.kernel}`;
    for (const initrd of entry.initrds) line += `|initrd ${initrd}`;
    if (entry.args !== "") line += `|append ${entry.args}`;
  } else {
    line = `${entry.name}|${entry.type}|kernel ${withArgs(entry.kernel, entry.args)}`;
    for (const m of entry.modules) line += `|module ${withArgs(m.path, m.args)}`;
  }
  return collapse(line);
}

/** One entry line (a trailing newline is allowed); `source` and `line` name it in errors. */
export function parseHeadsLine(text: string, source: string, line = 1): BootEntry {
  const fail = (why: string): never => {
    throw new BootConfigError(source, line, why);
  };
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  if (body.length > LIMITS.maxLine) fail("the entry line is longer than any real boot entry");
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(body)) fail("the entry line holds a control character or a second line");
  const fields = body.split("|");
  if (fields.length < 3) fail("the entry line has fewer than three '|'-separated fields");
  const name = collapse(fields[0]!);
  const kexectype = fields[1]!;
  if (kexectype !== "elf" && kexectype !== "xen" && kexectype !== "multiboot") {
    fail(`unknown kexec type "${kexectype}" (expected elf, xen or multiboot)`);
  }

  // Inside a field only a trailing space carries meaning (see cleanArgs): keep it in `rest`.
  const parsed = fields.slice(2).map((field) => {
    const words = collapse(field).split(" ");
    const trailing = /[ \t]$/.test(field) ? " " : "";
    const rest = words.slice(2).join(" ");
    return { key: words[0] ?? "", path: words[1] ?? "", rest: rest === "" ? trailing : rest + trailing };
  });
  const checkPath = (path: string) => {
    const problem = pathProblem(path);
    if (problem) fail(`the entry names ${problem}`);
  };
  const first = parsed[0]!;
  if (first.key !== "kernel") fail("the third field of the entry line must be 'kernel <path>'");
  checkPath(first.path);
  const common = { name, kernel: first.path, submenu: [] as string[], loader: "heads" as const, source: { file: source, line } };

  if (kexectype === "elf") {
    const initrds: string[] = [];
    let args = "";
    for (const f of parsed.slice(1)) {
      if (f.key === "initrd") {
        checkPath(f.path);
        initrds.push(f.path);
      } else if (f.key === "append") {
        args = cleanArgs(`${f.path} ${f.rest}`) ?? fail("the command line holds a control character");
      } else fail(`unexpected field "${f.key}" in a Linux entry (expected initrd or append)`);
    }
    return { type: "linux", ...common, args, initrds };
  }
  const modules: BootModule[] = [];
  for (const f of parsed.slice(1)) {
    if (f.key !== "module") fail(`unexpected field "${f.key}" in a ${kexectype} entry (expected module)`);
    checkPath(f.path);
    modules.push({ path: f.path, args: f.rest });
  }
  return { type: kexectype === "xen" ? "xen" : "multiboot", ...common, args: first.rest, modules };
}

/**
 * kexec_menu.txt from the scanned lines: with `unique` (the menu Heads shows and the one OEM
 * reset takes the default from) `sort -r | uniq` in the C locale, else the lines as found.
 */
export function headsMenu(lines: string[], unique: boolean): string[] {
  if (!unique) return lines.slice();
  const sorted = lines.slice().sort((a, b) => compareBytes(b, a));
  return sorted.filter((l, k) => k === 0 || l !== sorted[k - 1]);
}

/** UTF-8 byte order is code point order, which plain `<` on UTF-16 strings is not. */
function compareBytes(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
