// Intl.Segmenter at grapheme granularity, which is all string-width and ink ask of it.
// QuickJS has no Intl at all. The clustering rules cover what a terminal UI meets:
// combining marks, ZWJ emoji sequences, variation selectors, skin-tone modifiers,
// regional-indicator flags, CR LF and Hangul jamo.

const MARK = /\p{M}/u;
const ZWJ = 0x200d;

function isRegional(cp: number): boolean {
  return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

function isHangulTrailing(cp: number): boolean {
  return (cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff);
}

/** Whether the code point joins the cluster before it (ZWJ aside). */
function extendsCluster(cp: number): boolean {
  // Below the combining diacritics nothing extends: the common case, decided without a regex.
  if (cp < 0x300) return false;
  return (
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef) ||
    (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
    (cp >= 0xe0020 && cp <= 0xe007f) ||
    cp === 0x200c ||
    isHangulTrailing(cp) ||
    MARK.test(String.fromCodePoint(cp))
  );
}

export interface SegmentData {
  segment: string;
  index: number;
  input: string;
}

const width = (cp: number) => (cp > 0xffff ? 2 : 1);

/**
 * All clusters at once, walking code units: ink measures and slices every line of every
 * frame through this, and on QuickJS a generator over Array.from(input) cost more than the
 * rest of a frame.
 */
function graphemes(input: string): SegmentData[] {
  const out: SegmentData[] = [];
  const n = input.length;
  let i = 0;
  while (i < n) {
    const start = i;
    const first = input.codePointAt(i)!;
    i += width(first);
    if (first === 0x0d) {
      if (input.charCodeAt(i) === 0x0a) i++;
    } else if (first !== 0x0a) {
      if (isRegional(first) && i < n && isRegional(input.codePointAt(i)!)) i += 2;
      while (i < n) {
        const cp = input.codePointAt(i)!;
        if (cp === ZWJ) {
          i++;
          // A joiner glues the next pictograph onto this cluster.
          if (i < n) i += width(input.codePointAt(i)!);
        } else if (extendsCluster(cp)) {
          i += width(cp);
        } else break;
      }
    }
    out.push({ segment: input.slice(start, i), index: start, input });
  }
  return out;
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
    let clusters: SegmentData[] | null = null;
    const all = () => (clusters ??= graphemes(text));
    return {
      [Symbol.iterator]: () => all()[Symbol.iterator](),
      /** The cluster holding a code unit; slice-ansi asks this for every index of a string. */
      containing(codeUnitIndex = 0): SegmentData | undefined {
        const list = all();
        let low = 0;
        let high = list.length - 1;
        while (low <= high) {
          const mid = (low + high) >> 1;
          const s = list[mid]!;
          if (codeUnitIndex < s.index) high = mid - 1;
          else if (codeUnitIndex >= s.index + s.segment.length) low = mid + 1;
          else return s;
        }
        return undefined;
      },
    };
  }

  resolvedOptions() {
    return { locale: "en", granularity: this.granularity };
  }
}
