// string-width for the firmware bundle: the same answers as the package, but text that is
// printable ASCII, box drawing or block elements (nearly every string ink measures: menu
// lines, rules, borders, QR rows) is counted by its length. The package tests each
// character against emoji-regex, which costs QuickJS milliseconds per line.
import stripAnsi from "strip-ansi";
import packageStringWidth from "string-width";

export interface StringWidthOptions {
  ambiguousIsNarrow?: boolean;
  countAnsiEscapeCodes?: boolean;
}

// One column each: ASCII graphics, U+2500–U+259F (East Asian width N or A, and A is narrow by default).
const ONE_COLUMN_EACH = /^[\x20-\x7e\u2500-\u259f]*$/;
// ansi-regex (what strip-ansi removes) only matches sequences that start with ESC or CSI.
const ANSI_START = /[\u001b\u009b]/;

export default function stringWidth(text: string, options: StringWidthOptions = {}): number {
  if (typeof text !== "string" || text.length === 0) return 0;
  if (options.ambiguousIsNarrow !== false) {
    const visible = !options.countAnsiEscapeCodes && ANSI_START.test(text) ? stripAnsi(text) : text;
    if (ONE_COLUMN_EACH.test(visible)) return visible.length;
  }
  return packageStringWidth(text, options);
}
