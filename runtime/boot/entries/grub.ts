// grub.cfg → boot entries. The script is walked once to find menu entries, the variables it
// sets and its block structure; entry bodies are evaluated afterwards, as GRUB runs them
// when chosen, with the variables as the whole script left them.
//
// Decisions (Heads parses line by line with sed/cut and misses much of this, heads #1360):
// - submenus are flattened like Heads; entries keep their own title as name and the submenu
//   titles in `submenu`, so kexec_default lines stay byte-identical to Heads';
// - function bodies and for/while loops are never run, so entries and `set`s inside them are
//   skipped (with a warning for entries); `if` conditions cannot be evaluated at parse time,
//   so menu entries inside `if` blocks are kept (Heads keeps them too) while `set`, `search`
//   and assignments inside `if` blocks are ignored (variables they set expand to empty, as in
//   Heads); inside an entry body the last linux/initrd/multiboot seen wins, whatever branch;
// - unknown variables expand to empty, like Heads' shell `eval`;
// - `---` words are dropped from Linux command lines, device prefixes `(hd0,1)` from paths.
import { lexGrub, type Token, type Word } from "./grub-lexer.ts";
import {
  checkSize, configDir, finishEntry, fixPath, multibootType, pushEntry, stripDevice, type Draft,
} from "./common.ts";
import { BootConfigError, LIMITS, type BootEntry, type BootModule, type ParseResult } from "./types.ts";

export interface ParseOptions {
  /** Whether a path (relative to the boot dir) exists; without it nothing is dropped for a missing file. */
  exists?: (path: string) => boolean;
}

interface Command {
  words: Word[];
  line: number;
  conditional: boolean;
}

interface PendingEntry {
  title: string;
  submenu: string[];
  line: number;
  body: Command[];
}

type FrameKind = "entry" | "submenu" | "skip" | "block" | "if" | "loop";

interface Frame {
  kind: FrameKind;
  line: number;
  entry?: PendingEntry;
  title?: string;
}

const BRACED: FrameKind[] = ["entry", "submenu", "skip", "block"];
const MENU_OPTIONS_WITH_VALUE = ["--class", "--users", "--hotkey", "--id"];

export function parseGrub(text: string, source: string, options: ParseOptions = {}): ParseResult {
  checkSize(text, source);
  const tokens = lexGrub(text, source);
  const warnings: string[] = [];
  const globals = new Map<string, string>();
  const pending: PendingEntry[] = [];
  const stack: Frame[] = [];
  let expanded = 0;

  const expand = (words: Word[]): Expanded => {
    const fields: string[] = [];
    const unresolvedAt: boolean[] = [];
    let lastEmpty = false;
    for (const word of words) {
      const before = fields.length;
      let unresolved = false;
      const emit = (field: string) => {
        fields.push(field);
        unresolvedAt.push(unresolved);
      };
      let current = "";
      let started = word.quoted;
      const vars = currentVars();
      for (const part of word.parts) {
        if (!part.variable) {
          current += part.text;
          started = true;
          continue;
        }
        const value = vars.get(part.text);
        if (value === undefined) unresolved = true;
        const v = value ?? "";
        expanded += v.length;
        if (expanded > LIMITS.maxExpansion) {
          throw new BootConfigError(source, 0, "variable expansion grows beyond any real configuration (self-doubling variables?)");
        }
        if (part.quoted) {
          current += v;
          started = true;
        } else {
          const pieces = v.split(/[ \t\n]+/);
          for (let k = 0; k < pieces.length; k += 1) {
            if (k > 0) {
              if (started) emit(current);
              current = "";
              started = false;
            }
            if (pieces[k] !== "") {
              current += pieces[k];
              started = true;
            }
          }
        }
      }
      if (started) emit(current);
      lastEmpty = fields.length === before;
    }
    return { fields, unresolvedAt, lastEmpty };
  };

  // While walking the script the variables are the globals; entry bodies swap in their own.
  let scope: Map<string, string> | null = null;
  const currentVars = () => scope ?? globals;

  const innermost = (kind: FrameKind): number => {
    for (let k = stack.length - 1; k >= 0; k -= 1) if (stack[k]!.kind === kind) return k;
    return -1;
  };
  const skipping = () => stack.some((f) => f.kind === "skip" || f.kind === "loop");
  const push = (frame: Frame) => {
    if (stack.length >= LIMITS.maxDepth) {
      throw new BootConfigError(source, frame.line, `blocks nested deeper than ${LIMITS.maxDepth} levels`);
    }
    stack.push(frame);
  };
  const pop = (kinds: FrameKind[], line: number, what: string) => {
    const top = stack[stack.length - 1];
    if (!top || kinds.indexOf(top.kind) < 0) {
      throw new BootConfigError(source, line, `a '${what}' that closes nothing open`);
    }
    stack.pop();
    if (top.kind === "entry" && top.entry) pending.push(top.entry);
  };
  const submenuPath = () => stack.filter((f) => f.kind === "submenu").map((f) => f.title ?? "");

  const titleOf = (words: Word[]): string => {
    const { fields } = expand(words);
    for (let k = 0; k < fields.length; k += 1) {
      const f = fields[k]!;
      if (MENU_OPTIONS_WITH_VALUE.indexOf(f) >= 0) k += 1;
      else if (!f.startsWith("--")) return f;
    }
    return "";
  };

  const endCommand = (words: Word[], line: number, end: Token["kind"]) => {
    // `then`, `else`, `do` may lead a command on the same line: `if x; then insmod y; fi`.
    while (words.length > 0) {
      const lead = words[0]!.literal;
      if (lead === "then" || lead === "else" || lead === "do") words = words.slice(1);
      else break;
    }
    const keyword = words.length > 0 ? words[0]!.literal : null;
    if (keyword === "elif") words = [];
    else if (keyword === "fi") {
      pop(["if"], line, "fi");
      words = [];
    } else if (keyword === "done") {
      pop(["loop"], line, "done");
      words = [];
    } else if (keyword === "if") {
      push({ kind: "if", line });
      words = [];
    } else if (keyword === "for" || keyword === "while" || keyword === "until") {
      push({ kind: "loop", line });
      words = [];
    }

    if (end === "open") {
      openBlock(words, keyword, line);
      return;
    }
    if (words.length > 0) command(words, line);
    if (end === "close") pop(BRACED, line, "}");
  };

  const openBlock = (words: Word[], keyword: string | null, line: number) => {
    if (skipping()) {
      if (keyword === "menuentry" && stack.some((f) => f.kind === "loop")) {
        warnings.push(`${source} line ${line}: a menuentry inside a loop is skipped (loops are not run).`);
      }
      push({ kind: "skip", line });
      return;
    }
    if (keyword === "menuentry") {
      if (innermost("entry") >= 0) {
        warnings.push(`${source} line ${line}: a menuentry inside another entry is skipped.`);
        push({ kind: "skip", line });
        return;
      }
      const entry: PendingEntry = { title: titleOf(words.slice(1)), submenu: submenuPath(), line, body: [] };
      push({ kind: "entry", line, entry });
    } else if (keyword === "submenu") {
      push({ kind: innermost("entry") >= 0 ? "skip" : "submenu", line, title: titleOf(words.slice(1)) });
    } else if (keyword === "function") {
      push({ kind: "skip", line });
    } else {
      if (words.length > 0) command(words, line);
      push({ kind: "block", line });
    }
  };

  const command = (words: Word[], line: number) => {
    if (skipping()) return;
    const entryAt = innermost("entry");
    if (entryAt >= 0) {
      const conditional = stack.slice(entryAt + 1).some((f) => f.kind === "if");
      stack[entryAt]!.entry!.body.push({ words, line, conditional });
      return;
    }
    if (stack.some((f) => f.kind === "if")) return;
    setVariables(words, globals);
  };

  // `set a=b`, `a=b` and `search --set=root …` are the only commands that change what a
  // later entry sees; everything else (insmod, load_video, echo…) has no effect on the entry.
  const setVariables = (words: Word[], vars: Map<string, string>) => {
    const { fields } = expand(words);
    const head = fields[0] ?? "";
    const assign = (text: string) => {
      const eq = text.indexOf("=");
      if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(text.slice(0, eq))) vars.set(text.slice(0, eq), text.slice(eq + 1));
    };
    if (head === "set") fields.slice(1).forEach(assign);
    else if (head === "unset") fields.slice(1).forEach((name) => vars.delete(name));
    else if (head === "search") {
      for (let k = 1; k < fields.length; k += 1) {
        const f = fields[k]!;
        // The device search finds is unknowable here; paths stay relative to the boot dir.
        if (f.startsWith("--set=")) vars.set(f.slice(6), "");
        else if (f === "--set" || f === "-s") vars.set("root", "");
      }
    } else if (fields.length === 1 && words.length === 1) assign(head);
  };

  let current: Word[] = [];
  let currentLine = 1;
  for (const token of tokens) {
    if (token.kind === "word") {
      if (current.length === 0) currentLine = token.line;
      current.push(token.word);
      continue;
    }
    const words = current;
    current = [];
    endCommand(words, words.length > 0 ? currentLine : token.line, token.kind);
  }
  if (current.length > 0) endCommand(current, currentLine, "sep");
  if (stack.length > 0) {
    const open = stack[stack.length - 1]!;
    throw new BootConfigError(source, open.line, `a block opened here is never closed (${open.kind === "if" ? "missing fi" : open.kind === "loop" ? "missing done" : "missing }"})`);
  }

  const entries: BootEntry[] = [];
  const dir = configDir(source);
  for (const p of pending) {
    scope = new Map(globals);
    const entry = evaluate(p, dir, scope, expand, setVariables, warnings, source, options);
    pushEntry(entries, entry, source, p.line);
  }
  return { entries, warnings };
}

/** Fields after expansion, and for each whether an unknown variable went into it. */
interface Expanded {
  fields: string[];
  unresolvedAt: boolean[];
  /** The last word expanded to nothing (`… ${xen_rm_opts}` with the variable empty). */
  lastEmpty: boolean;
}

type Expand = (words: Word[]) => Expanded;

function evaluate(
  p: PendingEntry,
  dir: string,
  vars: Map<string, string>,
  expand: Expand,
  setVariables: (words: Word[], vars: Map<string, string>) => void,
  warnings: string[],
  source: string,
  options: ParseOptions,
): BootEntry | null {
  let linux: { path: string; args: string[]; unresolved: boolean } | null = null;
  let multiboot: { path: string; args: string; unresolved: boolean } | null = null;
  let initrds: { path: string; unresolved: boolean }[] = [];
  const modules: BootModule[] = [];
  const path = (raw: string) => fixPath(stripDevice(raw), dir);

  for (const cmd of p.body) {
    const { fields, unresolvedAt, lastEmpty } = expand(cmd.words);
    // Heads copies the text after a multiboot/module command and expands it later, so a
    // last variable that is empty leaves a space before the next `|` of the entry line.
    const argsOf = (words: string[]) => words.join(" ") + (lastEmpty ? " " : "");
    const head = fields[0] ?? "";
    const rest = fields.slice(1);
    const unresolved = (k: number) => unresolvedAt[k + 1] === true;
    if (head === "set" || head === "unset" || head === "search" || (fields.length === 1 && head.indexOf("=") > 0)) {
      if (!cmd.conditional) setVariables(cmd.words, vars);
    } else if (head === "linux" || head === "linux16" || head === "linuxefi") {
      if (rest.length === 0) continue;
      linux = { path: path(rest[0]!), args: rest.slice(1).filter((w) => w !== "---"), unresolved: unresolved(0) };
    } else if (head === "initrd" || head === "initrd16" || head === "initrdefi") {
      initrds = [];
      // Heads drops every `(device)` group before splitting the list on commas.
      rest.forEach((f, k) => {
        for (const piece of f.replace(/\([^)]*\)/g, "").split(",")) {
          if (piece !== "") initrds.push({ path: path(piece), unresolved: unresolved(k) });
        }
      });
    } else if (head === "multiboot" || head === "multiboot2") {
      if (rest.length === 0) continue;
      multiboot = { path: path(rest[0]!), args: argsOf(rest.slice(1)), unresolved: unresolved(0) };
    } else if (head === "module" || head === "module2") {
      const skip = rest[0] === "--nounzip" ? 1 : 0;
      if (rest.length <= skip) continue;
      modules.push({ path: path(rest[skip]!), args: argsOf(rest.slice(skip + 1)) });
    }
  }

  const where = `${source} line ${p.line}`;
  const missing = (file: string, unresolvedVar: boolean) =>
    options.exists !== undefined && !unresolvedVar && !options.exists(file);
  const draftBase = { name: p.title, submenu: p.submenu, source: { file: source, line: p.line }, loader: "grub" as const };

  if (multiboot) {
    if (missing(multiboot.path, multiboot.unresolved)) {
      warnings.push(`${where}: entry "${p.title}" skipped: ${multiboot.path} does not exist.`);
      return null;
    }
    const draft: Draft = {
      ...draftBase, type: multibootType(multiboot.path), kernel: multiboot.path, args: multiboot.args,
      initrds: [], modules,
    };
    return finishEntry(draft, warnings);
  }
  if (!linux) return null;
  if (missing(linux.path, linux.unresolved)) {
    warnings.push(`${where}: entry "${p.title}" skipped: ${linux.path} does not exist.`);
    return null;
  }
  for (const i of initrds) {
    if (missing(i.path, i.unresolved)) {
      warnings.push(`${where}: entry "${p.title}" skipped: ${i.path} does not exist.`);
      return null;
    }
  }
  const draft: Draft = {
    ...draftBase, type: "linux", kernel: linux.path, args: linux.args.join(" "),
    initrds: initrds.map((i) => i.path), modules: [],
  };
  return finishEntry(draft, warnings);
}
