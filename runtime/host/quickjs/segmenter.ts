// Intl.Segmenter at grapheme granularity, which is all string-width and ink ask of it.
// QuickJS has no Intl at all. The clustering rules cover what a terminal UI meets:
// combining marks, ZWJ emoji sequences, variation selectors, skin-tone modifiers,
// regional-indicator flags, CR LF and Hangul jamo.

const MARK = /\p{M}/u;
const ZWJ = 0x200d;

function isExtend(cp: number, ch: string): boolean {
  return (
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef) ||
    (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
    (cp >= 0xe0020 && cp <= 0xe007f) ||
    cp === 0x200c ||
    MARK.test(ch)
  );
}

function isRegional(cp: number): boolean {
  return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

function isHangulTrailing(cp: number): boolean {
  return (cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff);
}

export interface SegmentData {
  segment: string;
  index: number;
  input: string;
}

function* graphemes(input: string): Generator<SegmentData> {
  const chars = Array.from(input);
  let index = 0;
  let i = 0;
  while (i < chars.length) {
    const start = i;
    const first = chars[i]!.codePointAt(0)!;
    i++;
    if (first === 0x0d && chars[i] === "\n") i++;
    else if (first !== 0x0a && first !== 0x0d) {
      if (isRegional(first) && i < chars.length && isRegional(chars[i]!.codePointAt(0)!)) i++;
      while (i < chars.length) {
        const ch = chars[i]!;
        const cp = ch.codePointAt(0)!;
        if (isExtend(cp, ch) || isHangulTrailing(cp)) {
          i++;
        } else if (cp === ZWJ) {
          i++;
          // A joiner glues the next pictograph onto this cluster.
          if (i < chars.length) i++;
        } else break;
      }
    }
    const segment = chars.slice(start, i).join("");
    yield { segment, index, input };
    index += segment.length;
  }
}

export class SegmenterShim {
  private readonly granularity: string;

  constructor(_locales?: string | string[], options: { granularity?: string } = {}) {
    this.granularity = options.granularity ?? "grapheme";
    if (this.granularity !== "grapheme") {
      throw new RangeError(`Intl.Segmenter: granularity "${this.granularity}" is not supported (only grapheme)`);
    }
  }

  segment(input: string) {
    const text = String(input);
    return {
      [Symbol.iterator]: () => graphemes(text),
      containing(codeUnitIndex = 0): SegmentData | undefined {
        for (const s of graphemes(text)) {
          if (codeUnitIndex >= s.index && codeUnitIndex < s.index + s.segment.length) return s;
        }
        return undefined;
      },
    };
  }

  resolvedOptions() {
    return { locale: "en", granularity: this.granularity };
  }
}
