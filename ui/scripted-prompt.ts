// The Prompt API for tests of flows: answers come from a queue, everything shown is kept
// as a transcript. A flow that asks something the script did not expect fails loudly.
import type {
  ConfirmOptions, InputOptions, MenuItem, MenuOptions, MessageOptions, PasswordOptions, ProgressHandle, Prompt, QrScreenOptions, Status, Tone,
} from "./prompt.ts";
import { utf8Encode } from "./utf8.ts";

/** A menu on screen, as a scripted user who waits for its items to change sees it. */
export interface ShownMenu {
  /** The hot-keys of the enabled items shown now. */
  keys(): string[];
  /**
   * Resolves once `ready` holds for the keys shown (now or after an update); rejects with
   * MenuWaitTimeoutError after `timeoutMs` of real time.
   */
  until(ready: (keys: string[]) => boolean, timeoutMs?: number): Promise<void>;
}

/**
 * One queued answer. A menu answer is the item's hot-key (or "back"), or a function that acts
 * while the menu is on screen (plugs a drive in, waits for the items to change) and then
 * gives the hot-key; input and password answer null to cancel. Messages, QR codes and progress
 * need no answer.
 */
export type ScriptedAnswer =
  | { menu: string | ((menu: ShownMenu) => Promise<string>) }
  | { confirm: boolean }
  | { input: string | null }
  | { password: string | null };

export interface ShownItem {
  key: string;
  label: string;
  disabled: boolean;
}

export type TranscriptEntry =
  | {
    kind: "menu";
    title: string;
    text?: string;
    tone?: Tone;
    items: ShownItem[];
    /** A live menu's items after each update, in order; absent when they never changed. */
    updates?: ShownItem[][];
    allowBack: boolean;
    answer: string;
  }
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

export class MenuWaitTimeoutError extends Error {
  constructor(title: string, waitedMs: number, keys: string[]) {
    super(`The script waited ${waitedMs} ms for the menu "${title}" to change, but it still offers ${keys.join(" ") || "nothing"}.`);
    this.name = "MenuWaitTimeoutError";
  }
}

export class UnusedAnswersError extends Error {
  constructor(count: number) {
    super(`The flow finished with ${count} scripted answer(s) unused; it asked fewer questions than the script expects.`);
    this.name = "UnusedAnswersError";
  }
}

const view = (items: MenuItem<unknown>[]): ShownItem[] => items.map((i) => ({ key: i.key, label: i.label, disabled: !!i.disabled }));

/** Generous: a flow under a loaded machine re-reads its list every second. */
const MENU_WAIT_MS = 20_000;

/** The items of a menu on screen, followed through its updates until it is answered. */
class LiveItems<T> implements ShownMenu {
  readonly updates: MenuItem<T>[][] = [];
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly title: string,
    public items: MenuItem<T>[],
  ) {}

  update(items: MenuItem<T>[]): void {
    if (this.closed) return;
    this.items = items;
    this.updates.push(items);
    for (const check of [...this.waiters]) check();
  }

  close(): void {
    this.closed = true;
  }

  keys(): string[] {
    return this.items.filter((i) => !i.disabled).map((i) => i.key);
  }

  until(ready: (keys: string[]) => boolean, timeoutMs = MENU_WAIT_MS): Promise<void> {
    if (ready(this.keys())) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!ready(this.keys())) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new MenuWaitTimeoutError(this.title, timeoutMs, this.keys()));
      }, timeoutMs);
      this.waiters.add(check);
    });
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

  /** A live menu is watched while it waits for its answer, as a console would show it; it is recorded once answered. */
  async menu<T>(o: MenuOptions<T>): Promise<T | "back"> {
    const { menu: answer } = this.take("menu", o.title);
    const shown = new LiveItems<T>(o.title, o.items);
    const stop = o.watch?.((items) => shown.update(items));
    let key: string;
    try {
      key = typeof answer === "string" ? answer : await answer(shown);
    } finally {
      stop?.();
      shown.close();
    }
    const updates = shown.updates.map(view);
    this.transcript.push({ kind: "menu", title: o.title, text: o.text, ...(o.tone ? { tone: o.tone } : {}), items: view(o.items), ...(updates.length > 0 ? { updates } : {}), allowBack: !!o.allowBack, answer: key });
    const items = shown.items;
    if (key === "back") {
      if (!o.allowBack) throw new InvalidAnswerError("menu", o.title, "this menu has no way back");
      return "back";
    }
    const item = items.find((i) => i.key === key);
    if (!item) throw new InvalidAnswerError("menu", o.title, `no item has the key "${key}" (keys: ${items.map((i) => i.key).join(" ")})`);
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
