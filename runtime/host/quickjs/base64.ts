// atob/btoa over Latin-1 strings, as the web platform defines them.
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function btoaShim(input: string): string {
  const s = String(input);
  let out = "";
  for (let i = 0; i < s.length; i += 3) {
    const codes = [s.charCodeAt(i), s.charCodeAt(i + 1), s.charCodeAt(i + 2)];
    for (const c of codes) if (c > 0xff) throw new Error("btoa: the string contains characters outside of the Latin1 range");
    const n = ((codes[0]! & 0xff) << 16) | (((codes[1] || 0) & 0xff) << 8) | ((codes[2] || 0) & 0xff);
    const left = s.length - i;
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    out += left > 1 ? ALPHABET[(n >> 6) & 63]! : "=";
    out += left > 2 ? ALPHABET[n & 63]! : "=";
  }
  return out;
}

export function atobShim(input: string): string {
  let s = String(input).replace(/[\t\n\f\r ]/g, "");
  if (s.length % 4 === 0) s = s.replace(/==?$/, "");
  if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) {
    throw new Error("atob: the string to be decoded is not correctly encoded");
  }
  let out = "";
  let bits = 0;
  let value = 0;
  for (const ch of s) {
    value = (value << 6) | ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((value >> bits) & 0xff);
    }
  }
  return out;
}
