// Hostile inputs for the boot-entry parsers: windows of the golden corpus with random
// mutations, token soups, and rare extreme shapes (deep nesting, huge lines, binary garbage,
// unterminated quotes, NUL bytes, lone surrogates). Seeded, so a failure can be replayed.
import {
  BootConfigError, LIMITS, parseBls, parseGrub, parseHeadsLine, parseSyslinux, pathProblem, toHeadsLine, type ParseResult,
} from "../../../runtime/boot/entries/index.ts";
import { corpusTexts, distros, expected } from "./corpus.ts";

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  "{", "}", "'", '"', "\\", "$", "${", "}", "${a}", "$a", ";", "#", "\n", "\r\n", "\t", " ", "\u0000", "\u001b[2J",
  "menuentry 'x' {", "menuentry \"y\" --class os {", "submenu 's' {", "if [ a ]; then", "elif", "else", "fi", "then",
  "for k in a b; do", "while x; do", "done", "function f {", "set a=$a$a", "a=b", "set root=(hd0,1)", "search --set=root u",
  "linux /vmlinuz ro", "linux16", "linuxefi (hd0,gpt2)/v", "initrd /i.img,/j.img", "initrd16", "multiboot2 /xen.gz x",
  "module2 --nounzip /i", "module /v a", "---", "|", "..", "/../../etc/shadow", "label l", "LABEL L", "menu label ^M",
  "kernel /k", "KERNEL hdt.c32", "kernel mboot.c32", "append a --- b --- c", "append initrd=/x,/y q", "text help", "endtext",
  "title T", "options $kernelopts", "version 1", "\uFFFD", "\uD800", "é", "ü\u0301", "kernel", "elf", "xen", "multiboot",
];

export function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

function randomChars(r: () => number, count: number): string {
  let out = "";
  for (let k = 0; k < count; k += 1) out += String.fromCharCode(r() < 0.7 ? Math.floor(r() * 128) : Math.floor(r() * 0x10000));
  return out;
}

// Tokens that keep the block structure intact, so mutated entries still reach the entry checks.
const BENIGN = ["|", "..", "/../../etc/shadow", "\u0000", "\u001b[2J", "---", "$a", "${b}", "é", "\uD800", "\uFFFD", "(hd0,1)", ",", " ", "\t"];

function mutate(r: () => number, text: string): string {
  let s = text;
  const benign = r() < 0.4;
  const rounds = 1 + Math.floor(r() * 8);
  for (let k = 0; k < rounds; k += 1) {
    const at = Math.floor(r() * (s.length + 1));
    const op = benign ? 0 : r();
    if (op < 0.45) s = s.slice(0, at) + pick(r, benign ? BENIGN : TOKENS) + s.slice(at);
    else if (op < 0.65) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 40));
    else if (op < 0.8) s = s.slice(0, at) + s.slice(at, at + Math.floor(r() * 200)) + s.slice(at);
    else if (op < 0.92) s = s.slice(0, at) + randomChars(r, 1 + Math.floor(r() * 8)) + s.slice(at + 1);
    else s = s.slice(0, at) + "\n" + s.slice(at);
  }
  return s;
}

function extreme(r: () => number): string {
  switch (Math.floor(r() * 9)) {
    case 8: return "#".repeat(LIMITS.maxInput + 1);
    case 0: return "{\n".repeat(1 + Math.floor(r() * 200));
    case 1: return "if a; then\n".repeat(1 + Math.floor(r() * 100)) + "fi\n".repeat(Math.floor(r() * 100));
    case 2: return `menuentry x { linux /v ${"a".repeat(50000 + Math.floor(r() * 50000))} }`;
    case 3: return randomChars(r, 2000 + Math.floor(r() * 4000));
    case 4: return `menuentry 'x { ${"linux /v\n".repeat(Math.floor(r() * 500))}`;
    case 5: return `set a=xxxxxxxx\n${"set a=$a$a\n".repeat(10 + Math.floor(r() * 30))}menuentry x { linux /v $a }`;
    case 6: return "\u0000".repeat(Math.floor(r() * 5000));
    default: return "label a\n".repeat(Math.floor(r() * 2000)) + "kernel /k\n";
  }
}

const corpus = corpusTexts().map((f) => f.text);
const headsLines = distros().flatMap((d) => expected(d).lines);

/** The longest prefix made of whole lines whose `{ … }` and `if … fi` blocks are all closed. */
function balanced(window: string): string {
  const lines = window.split("\n");
  let depth = 0;
  let cut = 0;
  let offset = 0;
  for (const line of lines.slice(0, -1)) {
    const t = line.trim();
    if (t.endsWith("{") || /^if\b/.test(t) && !/\bfi$/.test(t)) depth += 1;
    else if (t === "}" || t === "fi") depth -= 1;
    offset += line.length + 1;
    if (depth < 0) break;
    if (depth === 0) cut = offset;
  }
  return window.slice(0, cut);
}

/** One configuration-like input. */
export function configInput(r: () => number): string {
  const roll = r();
  if (roll < 0.002) return extreme(r);
  if (roll < 0.25) {
    const words: string[] = [];
    const count = 1 + Math.floor(r() * 120);
    for (let k = 0; k < count; k += 1) words.push(pick(r, TOKENS), pick(r, [" ", "\n", " ", "\t", ""]));
    return words.join("");
  }
  const text = pick(r, corpus);
  // Half the windows start at an entry so that mutated but complete entries are common.
  const anchor = text.indexOf(pick(r, ["menuentry", "label", "LABEL", "title"]), Math.floor(r() * text.length));
  const start = r() < 0.5 && anchor >= 0 ? anchor : Math.floor(r() * text.length);
  let window = text.slice(start, start + 200 + Math.floor(r() * 1800));
  // …and often end where the blocks it opened are closed, so it is not refused as unterminated.
  if (r() < 0.7) window = balanced(window);
  return mutate(r, window);
}

/** One entry-line-like input. */
export function lineInput(r: () => number): string {
  const roll = r();
  if (roll < 0.1) return configInput(r);
  if (roll < 0.2) return TOKENS.slice(0, 1 + Math.floor(r() * 8)).map(() => pick(r, TOKENS)).join(pick(r, ["|", " ", ""]));
  return mutate(r, pick(r, headsLines));
}

export const parsers: Record<string, { input: (r: () => number) => string; run: (text: string) => ParseResult | null }> = {
  grub: { input: configInput, run: (t) => parseGrub(t, "/grub/grub.cfg") },
  syslinux: { input: configInput, run: (t) => parseSyslinux(t, "/isolinux/isolinux.cfg") },
  bls: { input: configInput, run: (t) => parseBls(t, "/loader/entries/f.conf", new Map([["kernelopts", "root=/dev/x ro"]])) },
  "heads-line": {
    input: lineInput,
    run: (t) => {
      const entry = parseHeadsLine(t, "/boot/kexec_default.1.txt");
      return { entries: [entry], warnings: [] };
    },
  },
};

/**
 * Feeds `count` inputs to one parser. Only a result or a BootConfigError is acceptable, and
 * every entry produced must survive the trip through Heads' line format unchanged with paths
 * that stay inside /boot. Returns the counts and the slowest input's time in milliseconds.
 */
export function fuzz(name: string, count: number, seed: number): { ok: number; refused: number; entries: number; slowestMs: number } {
  const { input, run } = parsers[name]!;
  const r = rng(seed);
  let ok = 0;
  let refused = 0;
  let entries = 0;
  let slowestMs = 0;
  for (let k = 0; k < count; k += 1) {
    const text = input(r);
    const started = performance.now();
    let result: ParseResult | null = null;
    try {
      result = run(text);
      ok += 1;
    } catch (error) {
      if (!(error instanceof BootConfigError)) {
        throw new Error(`${name} input #${k} (seed ${seed}) threw ${String(error)}: ${JSON.stringify(text.slice(0, 300))}`);
      }
      refused += 1;
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    for (const entry of result?.entries ?? []) {
      entries += 1;
      const line = toHeadsLine(entry);
      const again = toHeadsLine(parseHeadsLine(line, "check"));
      if (again !== line) throw new Error(`${name} input #${k} (seed ${seed}): line changed on re-parse: ${JSON.stringify(line)} → ${JSON.stringify(again)}`);
      const paths = [entry.kernel, ...(entry.type === "linux" ? entry.initrds : entry.modules.map((m) => m.path))];
      for (const p of paths) {
        if (pathProblem(p)) throw new Error(`${name} input #${k} (seed ${seed}): entry with a bad path ${JSON.stringify(p)}`);
      }
    }
  }
  return { ok, refused, entries, slowestMs };
}
