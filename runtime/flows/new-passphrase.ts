// A new passphrase is typed twice before anything is changed with it: a typo in a passphrase
// nobody can see would lock the owner out of the TPM or the key.
import type { Prompt } from "../../ui/prompt.ts";
import { equalBytes } from "../../lib/bytes.ts";

export interface NewPassphraseOptions {
  title: string;
  /** What it is, for the labels and the mismatch message ("TPM owner passphrase"). */
  what: string;
  /** The allowed lengths, shown in the first label. */
  min: number;
  max: number;
  /** The rule, shown when a typed value breaks it. */
  validate(value: Uint8Array): string | null;
}

/** Asks until two entries match; the caller owns (and zeroes) the bytes; null when cancelled. */
export async function askNewPassphrase(prompt: Prompt, o: NewPassphraseOptions): Promise<Uint8Array | null> {
  for (;;) {
    const first = await prompt.password({ title: o.title, label: `New ${o.what} (${o.min}-${o.max} characters)`, validate: o.validate });
    if (first === null) return null;
    const again = await prompt.password({ title: o.title, label: `The ${o.what} again` });
    if (again === null) {
      first.fill(0);
      return null;
    }
    const same = equalBytes(first, again);
    again.fill(0);
    if (same) return first;
    first.fill(0);
    await prompt.message({ title: o.title, text: `The two ${o.what}s differ; type it again.`, tone: "warning" });
  }
}
