// Raw console bytes → key events. One decoder for every console bootward meets (a vt100
// serial line, the Linux console, a pty), so a key means the same thing everywhere.
// Pure: no timers here. A lone ESC may be the start of an arrow key split across two reads,
// so it is held back; the caller calls flush() after a short pause to release it as Escape.
import { utf8Encode } from "./utf8.ts";

export type KeyName =
  | "up" | "down" | "left" | "right"
  | "home" | "end" | "pageup" | "pagedown" | "insert" | "delete"
  | "enter" | "escape" | "backspace" | "tab"
  | "char" // printable text: `text` holds one character (a whole code point)
  | "ctrl" // a control key: `text` holds the lower-case letter (ctrl-c → "c")
  | "unknown"; // a well-formed sequence bootward has no use for (F-keys, mouse …)

export interface Key {
  name: KeyName;
  text?: string;
}

const ESC = 0x1b;

// Final bytes of CSI / SS3 sequences that carry no number: ESC [ A, ESC O A …
const LETTER_KEYS: Record<string, KeyName> = {
  A: "up", B: "down", C: "right", D: "left", H: "home", F: "end",
};

// ESC [ n ~ : the vt220 editing keypad, as sent by TERM=linux, xterm and most serial terminals.
const TILDE_KEYS: Record<string, KeyName> = {
  "1": "home", "2": "insert", "3": "delete", "4": "end", "5": "pageup", "6": "pagedown", "7": "home", "8": "end",
};

export interface KeyDecoder {
  /** Feeds bytes (or an already decoded string); returns the keys they complete. */
  push(chunk: Uint8Array | string): Key[];
  /** True while bytes are held back waiting for the rest of a sequence. */
  pending(): boolean;
  /** Gives up waiting: a held ESC becomes Escape, a broken sequence is dropped. */
  flush(): Key[];
}

function utf8Length(lead: number): number {
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  return 0;
}

function decodeUtf8(bytes: number[]): string | null {
  const [a, b, c, d] = bytes;
  for (let i = 1; i < bytes.length; i++) if ((bytes[i]! & 0xc0) !== 0x80) return null;
  let cp: number;
  if (bytes.length === 2) cp = ((a! & 0x1f) << 6) | (b! & 0x3f);
  else if (bytes.length === 3) cp = ((a! & 0x0f) << 12) | ((b! & 0x3f) << 6) | (c! & 0x3f);
  else cp = ((a! & 0x07) << 18) | ((b! & 0x3f) << 12) | ((c! & 0x3f) << 6) | (d! & 0x3f);
  // Overlong forms and surrogates are not characters; drop them rather than guess.
  const min = bytes.length === 2 ? 0x80 : bytes.length === 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
  return String.fromCodePoint(cp);
}

/** Decodes an escape sequence at the start of `buf`: [key or null, bytes used], or "more" when incomplete. */
function decodeEscape(buf: number[]): [Key | null, number] | "more" {
  if (buf.length < 2) return "more";
  const second = buf[1]!;
  if (second === 0x4f /* O: SS3, application cursor keys */) {
    if (buf.length < 3) return "more";
    const name = LETTER_KEYS[String.fromCharCode(buf[2]!)];
    return [{ name: name ?? "unknown" }, 3];
  }
  if (second === 0x5b /* [: CSI */) {
    // The Linux console sends F1–F5 as ESC [ [ A … E.
    if (buf[2] === 0x5b) return buf.length < 4 ? "more" : [{ name: "unknown" }, 4];
    let i = 2;
    while (i < buf.length && buf[i]! >= 0x20 && buf[i]! <= 0x3f) i++; // parameter and intermediate bytes
    if (i >= buf.length) return i - 2 > 16 ? [null, i] : "more";
    const final = buf[i]!;
    if (final < 0x40 || final > 0x7e) return [null, i]; // not a CSI after all: drop the prefix
    const params = String.fromCharCode(...buf.slice(2, i));
    const finalChar = String.fromCharCode(final);
    let name: KeyName | undefined;
    if (finalChar === "~") name = TILDE_KEYS[params.split(";")[0]!];
    else if (params === "" || params.startsWith("1;")) name = LETTER_KEYS[finalChar];
    return [{ name: name ?? "unknown" }, i + 1];
  }
  // ESC followed by anything else is Escape pressed before that key, not Alt+key: on a slow
  // serial line both often arrive in one read, and the user meant two keys.
  return [{ name: "escape" }, 1];
}

export function createKeyDecoder(): KeyDecoder {
  let buf: number[] = [];
  // A CR already reported as Enter: an LF right after it is the same key (CRLF terminals).
  let afterCr = false;

  function decode(final: boolean): Key[] {
    const keys: Key[] = [];
    while (buf.length > 0) {
      const byte = buf[0]!;
      if (byte === ESC) {
        const result = decodeEscape(buf);
        if (result === "more") {
          if (!final) break;
          // Time is up: a lone ESC is the Escape key; a cut-off sequence is noise.
          if (buf.length === 1) keys.push({ name: "escape" });
          buf = [];
          break;
        }
        const [key, used] = result;
        if (key) keys.push(key);
        buf = buf.slice(used);
        afterCr = false;
        continue;
      }
      if (byte >= 0x80) {
        const len = utf8Length(byte);
        if (len === 0) {
          buf = buf.slice(1);
          continue;
        }
        if (buf.length < len) {
          if (!final) break;
          buf = [];
          break;
        }
        const text = decodeUtf8(buf.slice(0, len));
        buf = buf.slice(text ? len : 1);
        if (text) keys.push({ name: "char", text });
        afterCr = false;
        continue;
      }
      buf = buf.slice(1);
      const wasAfterCr = afterCr;
      afterCr = byte === 0x0d;
      if (byte === 0x0d) keys.push({ name: "enter" });
      else if (byte === 0x0a) {
        if (!wasAfterCr) keys.push({ name: "enter" });
      } else if (byte === 0x7f || byte === 0x08) keys.push({ name: "backspace" });
      else if (byte === 0x09) keys.push({ name: "tab" });
      else if (byte < 0x20) {
        // 0x00 is ctrl-@ / ctrl-space; 0x1c–0x1f have no letter and are of no use here.
        if (byte >= 0x01 && byte <= 0x1a) keys.push({ name: "ctrl", text: String.fromCharCode(byte + 0x60) });
      } else keys.push({ name: "char", text: String.fromCharCode(byte) });
    }
    return keys;
  }

  return {
    push(chunk) {
      const bytes = typeof chunk === "string" ? utf8Encode(chunk) : chunk;
      for (let i = 0; i < bytes.length; i++) buf.push(bytes[i]!);
      return decode(false);
    },
    pending: () => buf.length > 0,
    flush: () => decode(true),
  };
}

/** All keys in a complete input (a script, a test): nothing is held back. */
export function decodeKeys(chunk: Uint8Array | string): Key[] {
  const decoder = createKeyDecoder();
  return decoder.push(chunk).concat(decoder.flush());
}
