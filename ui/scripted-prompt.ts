// The Prompt API for tests of flows: answers come from a queue, everything shown is kept
// as a transcript. A flow that asks something the script did not expect fails loudly.
import type {
  ConfirmOptions, InputOptions, MenuOptions, MessageOptions, PasswordOptions, ProgressHandle, Prompt, QrScreenOptions, Status, Tone,
} from "./prompt.ts";
import { utf8Encode } from "./utf8.ts";

/**
 * One queued answer. A menu answer is the item's hot-key (or "back"); input and password
 * answer null to cancel. Messages, QR codes and progress need no answer.
 */
export type ScriptedAnswer =
  | { menu: string }
  | { confirm: boolean }
  | { input: string | null }
  | { password: string | null };

export type TranscriptEntry =
  | { kind: "menu"; title: string; text?: string; items: { key: string; label: string; disabled: boolean }[]; allowBack: boolean; answer: string }
  | { kind: "confirm"; title: string; text: string; defaultYes: boolean; answer: boolean }
  | { kind: "input"; title: string; label: string; initial?: string; answer: string | null; rejected?: string }
  | { kind: "password"; title: string; label: string; answered: boolean; rejected?: string }
  | { kind: "message"; title: string; text: string; tone: Tone }
  | { kind: "qr"; title: string; text: string; payload: string }
  | { kind: "progress"; label: string; updates: { fraction: number | null; detail?: string }[]; done: boolean }
  | { kind: "status"; status: Status };

type Kind = "menu" | "confirm" | "input" | "password";

function describe(kind: Kind, title: string): string {
  return `${kind} "${title}"`;
}

export class ScriptExhaustedError extends Error {
  constructor(kind: Kind, title: string) {
    super(`The flow asked for a ${describe(kind, title)} but the script has no answers left; add one to the script.`);
    this.name = "ScriptExhaustedError";
  }
}

export class UnexpectedPromptError extends Error {
  constructor(kind: Kind, title: string, expected: string) {
    super(`The flow asked for a ${describe(kind, title)} but the script's next answer is for a ${expected}.`);
    this.name = "UnexpectedPromptError";
  }
}

export class InvalidAnswerError extends Error {
  constructor(kind: Kind, title: string, why: string) {
    super(`The script's answer to the ${describe(kind, title)} cannot be given: ${why}.`);
    this.name = "InvalidAnswerError";
  }
}

export class UnusedAnswersError extends Error {
  constructor(count: number) {
    super(`The flow finished with ${count} scripted answer(s) unused; it asked fewer questions than the script expects.`);
    this.name = "UnusedAnswersError";
  }
}

export class ScriptedPrompt implements Prompt {
  readonly transcript: TranscriptEntry[] = [];
  private readonly queue: ScriptedAnswer[];

  constructor(answers: ScriptedAnswer[]) {
    this.queue = answers.slice();
  }

  /** Answers not used yet. */
  remaining(): number {
    return this.queue.length;
  }

  /** Throws unless every scripted answer was used. */
  assertDone(): void {
    if (this.queue.length > 0) throw new UnusedAnswersError(this.queue.length);
  }

  /** The titles shown, in order (statuses and progress excluded): handy for assertions. */
  titles(): string[] {
    const out: string[] = [];
    for (const e of this.transcript) if (e.kind !== "status" && e.kind !== "progress") out.push(e.title);
    return out;
  }

  private take<K extends Kind>(kind: K, title: string): Extract<ScriptedAnswer, Record<K, unknown>> {
    const next = this.queue[0];
    if (!next) throw new ScriptExhaustedError(kind, title);
    if (!(kind in next)) throw new UnexpectedPromptError(kind, title, Object.keys(next)[0]!);
    this.queue.shift();
    return next as Extract<ScriptedAnswer, Record<K, unknown>>;
  }

  async menu<T>(o: MenuOptions<T>): Promise<T | "back"> {
    const { menu: key } = this.take("menu", o.title);
    const items = o.items.map((i) => ({ key: i.key, label: i.label, disabled: !!i.disabled }));
    this.transcript.push({ kind: "menu", title: o.title, text: o.text, items, allowBack: !!o.allowBack, answer: key });
    if (key === "back") {
      if (!o.allowBack) throw new InvalidAnswerError("menu", o.title, "this menu has no way back");
      return "back";
    }
    const item = o.items.find((i) => i.key === key);
    if (!item) throw new InvalidAnswerError("menu", o.title, `no item has the key "${key}" (keys: ${o.items.map((i) => i.key).join(" ")})`);
    if (item.disabled) throw new InvalidAnswerError("menu", o.title, `item "${key}" (${item.label}) is disabled`);
    return item.value;
  }

  async confirm(o: ConfirmOptions): Promise<boolean> {
    const { confirm } = this.take("confirm", o.title);
    this.transcript.push({ kind: "confirm", title: o.title, text: o.text, defaultYes: !!o.defaultYes, answer: confirm });
    return confirm;
  }

  /** A rejected answer is recorded with the validator's message and the next answer is asked for, as a user would retype. */
  async input(o: InputOptions): Promise<string | null> {
    for (;;) {
      const { input } = this.take("input", o.title);
      const rejected = input === null ? null : (o.validate?.(input) ?? null);
      this.transcript.push({ kind: "input", title: o.title, label: o.label, initial: o.initial, answer: input, ...(rejected ? { rejected } : {}) });
      if (!rejected) return input;
    }
  }

  async password(o: PasswordOptions): Promise<Uint8Array | null> {
    for (;;) {
      const { password } = this.take("password", o.title);
      if (password === null) {
        this.transcript.push({ kind: "password", title: o.title, label: o.label, answered: false });
        return null;
      }
      const bytes = utf8Encode(password);
      let rejected: string | null = null;
      if (o.validate) {
        const probe = bytes.slice();
        rejected = o.validate(probe);
        probe.fill(0);
      }
      // The secret itself is never recorded.
      this.transcript.push({ kind: "password", title: o.title, label: o.label, answered: true, ...(rejected ? { rejected } : {}) });
      if (!rejected) return bytes;
      bytes.fill(0);
    }
  }

  async message(o: MessageOptions): Promise<void> {
    this.transcript.push({ kind: "message", title: o.title, text: o.text, tone: o.tone ?? "info" });
  }

  async showQr(o: QrScreenOptions): Promise<void> {
    this.transcript.push({ kind: "qr", title: o.title, text: o.text, payload: o.payload });
  }

  progress(label: string): ProgressHandle {
    const entry: TranscriptEntry & { kind: "progress" } = { kind: "progress", label, updates: [], done: false };
    this.transcript.push(entry);
    return {
      update: (fraction, detail) => {
        entry.updates.push(detail === undefined ? { fraction } : { fraction, detail });
      },
      done: () => {
        entry.done = true;
      },
    };
  }

  setStatus(status: Status): void {
    this.transcript.push({ kind: "status", status: { ...status } });
  }
}
