// GRUB script → tokens. Quoting follows GRUB's shell-like rules: '…' is literal, "…" keeps
// `$var` live and lets `\` escape `$ " \` and newline, a bare `\` escapes the next character,
// `#` at the start of a word comments to the end of the line. Variables stay unexpanded here
// (an entry body runs later, with the variables of the whole script), so a word is a list of
// literal and variable parts. One pass over the text, no backtracking.
import { BootConfigError } from "./types.ts";

export interface Part {
  text: string;
  /** true: `text` is a variable name to expand. */
  variable: boolean;
  quoted: boolean;
}

export interface Word {
  parts: Part[];
  /** The word as written with quotes removed, when it holds no variable (keywords, `{`, `}`). */
  literal: string | null;
  quoted: boolean;
}

export type Token =
  | { kind: "word"; word: Word; line: number }
  | { kind: "sep"; line: number }
  | { kind: "open"; line: number }
  | { kind: "close"; line: number };

const NAME_CHAR = /[A-Za-z0-9_]/;
const IN_DOUBLE = /[^"\\$]/;
const ORDINARY = /[^ \t\n\r\f\v;'"\\$]/;

export function lexGrub(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;

  while (i < n) {
    const c = text.charAt(i);
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i += 1;
    } else if (c === "\n") {
      tokens.push({ kind: "sep", line });
      line += 1;
      i += 1;
    } else if (c === ";") {
      tokens.push({ kind: "sep", line });
      i += 1;
    } else if (c === "#") {
      while (i < n && text.charAt(i) !== "\n") i += 1;
    } else if (c === "\\" && text.charAt(i + 1) === "\n") {
      line += 1;
      i += 2;
    } else {
      const start = line;
      const word = readWord();
      if (word.literal === "{" && !word.quoted) tokens.push({ kind: "open", line: start });
      else if (word.literal === "}" && !word.quoted) tokens.push({ kind: "close", line: start });
      else if (word.parts.length > 0 || word.quoted) tokens.push({ kind: "word", word, line: start });
    }
  }
  return tokens;

  function readWord(): Word {
    const parts: Part[] = [];
    let lit = "";
    let quotedLit = false;
    let hasVar = false;
    let anyQuote = false;
    let plain = "";
    const flush = () => {
      if (lit !== "") parts.push({ text: lit, variable: false, quoted: quotedLit });
      lit = "";
    };
    const addLit = (s: string, quoted: boolean) => {
      if (quoted !== quotedLit) flush();
      quotedLit = quoted;
      lit += s;
      plain += s;
    };
    const addVar = (name: string, quoted: boolean) => {
      flush();
      parts.push({ text: name, variable: true, quoted });
      hasVar = true;
    };
    // `$name`, `${name}` or a lone `$`; returns the index after it.
    const readVar = (at: number, quoted: boolean): number => {
      const next = text.charAt(at + 1);
      if (next === "{") {
        const close = text.indexOf("}", at + 2);
        const newline = text.indexOf("\n", at + 2);
        if (close < 0 || (newline >= 0 && newline < close)) {
          throw new BootConfigError(source, line, "a ${ without its closing }");
        }
        addVar(text.slice(at + 2, close), quoted);
        return close + 1;
      }
      if (next !== "" && "?#@*".indexOf(next) >= 0) {
        addVar(next, quoted);
        return at + 2;
      }
      let end = at + 1;
      while (end < n && NAME_CHAR.test(text.charAt(end))) end += 1;
      if (end === at + 1) {
        addLit("$", quoted);
        return end;
      }
      addVar(text.slice(at + 1, end), quoted);
      return end;
    };

    while (i < n) {
      const c = text.charAt(i);
      if (c === " " || c === "\t" || c === "\n" || c === ";" || c === "\r" || c === "\f" || c === "\v") break;
      if (c === "'") {
        anyQuote = true;
        const close = text.indexOf("'", i + 1);
        if (close < 0) throw new BootConfigError(source, line, "a single quote that is never closed");
        const inside = text.slice(i + 1, close);
        line += countNewlines(inside);
        addLit(inside, true);
        i = close + 1;
      } else if (c === '"') {
        anyQuote = true;
        const opened = line;
        i += 1;
        let closed = false;
        while (i < n) {
          const d = text.charAt(i);
          if (d === '"') {
            closed = true;
            i += 1;
            break;
          }
          if (d === "\\") {
            const e = text.charAt(i + 1);
            if (e === "\n") {
              line += 1;
              i += 2;
            } else if (e === "$" || e === '"' || e === "\\") {
              addLit(e, true);
              i += 2;
            } else {
              addLit("\\", true);
              i += 1;
            }
          } else if (d === "$") {
            i = readVar(i, true);
          } else {
            let end = i + 1;
            while (end < n && IN_DOUBLE.test(text.charAt(end))) end += 1;
            const run = text.slice(i, end);
            line += countNewlines(run);
            addLit(run, true);
            i = end;
          }
        }
        if (!closed) throw new BootConfigError(source, opened, "a double quote that is never closed");
      } else if (c === "\\") {
        const e = text.charAt(i + 1);
        if (e === "\n") {
          line += 1;
          i += 2;
        } else {
          anyQuote = true;
          if (e !== "") addLit(e, true);
          i += 2;
        }
      } else if (c === "$") {
        i = readVar(i, false);
      } else {
        // A run of ordinary characters is copied in one slice.
        let end = i + 1;
        while (end < n && ORDINARY.test(text.charAt(end))) end += 1;
        addLit(text.slice(i, end), false);
        i = end;
      }
    }
    flush();
    return { parts, literal: hasVar ? null : plain, quoted: anyQuote };
  }
}

function countNewlines(s: string): number {
  let count = 0;
  for (let k = s.indexOf("\n"); k >= 0; k = s.indexOf("\n", k + 1)) count += 1;
  return count;
}
