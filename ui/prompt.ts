// The Prompt API: the only way flows talk to the user. Flows ask; an implementation
// (ink on a console, or a script in tests) shows and answers. ui/ never decides anything.

export type Tone = "info" | "success" | "warning" | "error";

/** ok = verified intact; unknown = not configured or not checked; tampered; forced = boot without verification. */
export type Integrity = "ok" | "unknown" | "tampered" | "forced";

export type TotpStatus = { code: string; /** ms since the epoch when the code stops being valid */ expiresAt: number } | { error: string };

export interface Status {
  board: string;
  integrity: Integrity;
  /** Why integrity is what it is, in a few words ("/boot hash mismatch"). */
  reason?: string;
  totp?: TotpStatus | null;
  /** HOTP dongle result as Heads words it: "Success", "Invalid code", "Not configured" … */
  hotp?: string | null;
}

export interface MenuItem<T> {
  /** The hot-key: one character, case-sensitive as in Heads (F and f are different items). */
  key: string;
  label: string;
  value: T;
  disabled?: boolean;
}

export interface MenuOptions<T> {
  title: string;
  text?: string;
  items: MenuItem<T>[];
  /** As a message's: a menu that reports a problem is drawn in its colour, its title led by the word. */
  tone?: Tone;
  /** Escape answers "back". */
  allowBack?: boolean;
  /**
   * For items that can change while the menu is on screen (a USB drive plugged in): called
   * once the menu is shown, with a function that replaces the items shown. What it returns is
   * called when the menu is answered or the UI closes; updates after that are ignored.
   */
  watch?: (update: (items: MenuItem<T>[]) => void) => () => void;
}

export interface ConfirmOptions {
  title: string;
  text: string;
  defaultYes?: boolean;
}

/** Returns a message to show (and refuse the answer), or null to accept it. */
export type Validator<V> = (value: V) => string | null;

export interface InputOptions {
  title: string;
  label: string;
  initial?: string;
  validate?: Validator<string>;
}

export interface PasswordOptions {
  title: string;
  label: string;
  /** Gets a copy of the bytes, zeroed again after the call. */
  validate?: Validator<Uint8Array>;
}

export interface MessageOptions {
  title: string;
  text: string;
  tone?: Tone;
}

export interface QrScreenOptions {
  title: string;
  text: string;
  payload: string;
}

export interface ProgressHandle {
  /** fraction in 0..1, or null when the length of the work is unknown (a spinner). */
  update(fraction: number | null, detail?: string): void;
  done(): void;
}

export interface Prompt {
  /** The chosen item's value, or "back" (Escape, only when allowBack). */
  menu<T>(options: MenuOptions<T>): Promise<T | "back">;
  confirm(options: ConfirmOptions): Promise<boolean>;
  /** The text entered, or null when cancelled with Escape. */
  input(options: InputOptions): Promise<string | null>;
  /** UTF-8 bytes the caller must zero after use, or null when cancelled. */
  password(options: PasswordOptions): Promise<Uint8Array | null>;
  /** Resolves once the user has acknowledged it. */
  message(options: MessageOptions): Promise<void>;
  progress(label: string): ProgressHandle;
  /** Resolves once the user has scanned the code and pressed Enter. */
  showQr(options: QrScreenOptions): Promise<void>;
  setStatus(status: Status): void;
}
