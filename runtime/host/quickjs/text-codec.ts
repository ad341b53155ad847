// UTF-8 TextEncoder/TextDecoder: QuickJS has neither, and openpgp and otplib need both.

const REPLACEMENT = 0xfffd;

function toBytes(input: ArrayBufferView | ArrayBuffer | undefined): Uint8Array {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return new Uint8Array(input);
}

export class TextEncoderShim {
  readonly encoding = "utf-8";

  encode(input = ""): Uint8Array {
    const out = new Uint8Array(input.length * 3);
    return out.subarray(0, this.encodeInto(input, out).written);
  }

  encodeInto(input: string, dest: Uint8Array): { read: number; written: number } {
    let read = 0;
    let written = 0;
    for (let i = 0; i < input.length; i++) {
      let cp = input.charCodeAt(i);
      let units = 1;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < input.length) {
        const low = input.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          units = 2;
        }
      }
      // A lone surrogate cannot be encoded; the encoding standard says U+FFFD.
      if (cp >= 0xd800 && cp <= 0xdfff) cp = REPLACEMENT;
      const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (written + size > dest.length) break;
      if (size === 1) dest[written++] = cp;
      else if (size === 2) {
        dest[written++] = 0xc0 | (cp >> 6);
        dest[written++] = 0x80 | (cp & 0x3f);
      } else if (size === 3) {
        dest[written++] = 0xe0 | (cp >> 12);
        dest[written++] = 0x80 | ((cp >> 6) & 0x3f);
        dest[written++] = 0x80 | (cp & 0x3f);
      } else {
        dest[written++] = 0xf0 | (cp >> 18);
        dest[written++] = 0x80 | ((cp >> 12) & 0x3f);
        dest[written++] = 0x80 | ((cp >> 6) & 0x3f);
        dest[written++] = 0x80 | (cp & 0x3f);
      }
      read += units;
      i += units - 1;
    }
    return { read, written };
  }
}

/** Length of the sequence a lead byte starts, or 0 for a byte that cannot lead. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

function continuationOk(lead: number, index: number, byte: number): boolean {
  if ((byte & 0xc0) !== 0x80) return false;
  if (index !== 1) return true;
  // Reject overlong forms, surrogates and code points above U+10FFFF.
  if (lead === 0xe0) return byte >= 0xa0;
  if (lead === 0xed) return byte <= 0x9f;
  if (lead === 0xf0) return byte >= 0x90;
  if (lead === 0xf4) return byte <= 0x8f;
  return true;
}

export class TextDecoderShim {
  readonly encoding = "utf-8";
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  private pending: number[] = [];
  private bomSeen = false;

  constructor(label = "utf-8", options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
    const name = label.trim().toLowerCase();
    if (name !== "utf-8" && name !== "utf8" && name !== "unicode-1-1-utf-8") {
      throw new RangeError(`TextDecoder: encoding "${label}" is not supported (only UTF-8)`);
    }
    this.fatal = options.fatal ?? false;
    this.ignoreBOM = options.ignoreBOM ?? false;
  }

  decode(input?: ArrayBufferView | ArrayBuffer, options: { stream?: boolean } = {}): string {
    const fresh = toBytes(input);
    const bytes = this.pending.length ? Uint8Array.from([...this.pending, ...fresh]) : fresh;
    this.pending = [];
    const stream = options.stream ?? false;
    let out = "";
    const chunk: number[] = [];
    const flush = () => {
      out += String.fromCharCode.apply(null, chunk);
      chunk.length = 0;
    };
    const bad = () => {
      if (this.fatal) {
        this.bomSeen = false;
        throw new TypeError("TextDecoder: the data is not valid UTF-8");
      }
      chunk.push(REPLACEMENT);
    };
    let i = 0;
    while (i < bytes.length) {
      const lead = bytes[i]!;
      const len = sequenceLength(lead);
      if (len === 0) {
        bad();
        i++;
        continue;
      }
      let cp = len === 1 ? lead : lead & (0xff >> (len + 1));
      let k = 1;
      for (; k < len && i + k < bytes.length; k++) {
        const b = bytes[i + k]!;
        if (!continuationOk(lead, k, b)) break;
        cp = (cp << 6) | (b & 0x3f);
      }
      if (k < len) {
        if (i + k >= bytes.length && stream) {
          this.pending = Array.from(bytes.subarray(i));
          break;
        }
        bad();
        i += k;
        continue;
      }
      i += len;
      if (cp === 0xfeff && !this.bomSeen && !this.ignoreBOM && out.length === 0 && chunk.length === 0) {
        this.bomSeen = true;
        continue;
      }
      this.bomSeen = true;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      } else chunk.push(cp);
      if (chunk.length >= 8192) flush();
    }
    flush();
    if (!stream) this.bomSeen = false;
    return out;
  }
}
