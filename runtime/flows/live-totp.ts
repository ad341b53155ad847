// Keeps the header's TOTP code live: when the code shown expires, a fresh one is unsealed
// and the header redrawn. The TPM is only touched while a question waits on screen (the flow
// is then blocked on the user and does no TPM work of its own), and an answer given while a
// refresh is under way reaches the flow only once the refresh is done; so the refresh never
// runs alongside a flow's own TPM commands.
import type { Sys } from "../host/sys.ts";
import type { Prompt, Status, TotpStatus } from "../../ui/prompt.ts";
import { describeError } from "../errors.ts";
import { NO_SECRET } from "../attest/provider.ts";
import type { AttestationProvider, FlowUi } from "./context.ts";

export function liveTotpUi(inner: FlowUi, sys: Sys, provider: () => AttestationProvider | undefined): FlowUi {
  let shown: Status | null = null;
  let waiting = 0;
  /** The code shown has expired and no fresh one was fetched yet. */
  let due = false;
  let refreshing: Promise<void> | null = null;
  let cancelTimer: (() => void) | null = null;

  const show = (status: Status) => {
    shown = { ...status };
    inner.prompt.setStatus(shown);
    cancelTimer?.();
    cancelTimer = null;
    due = false;
    const totp = shown.totp;
    if (!totp || "error" in totp) return;
    cancelTimer = sys.setTimer(Math.max(0, totp.expiresAt - sys.now()), () => {
      cancelTimer = null;
      due = true;
      if (waiting > 0) refresh();
    });
  };

  const refresh = () => {
    const p = provider();
    if (!due || refreshing || !p || !shown) return;
    due = false;
    refreshing = (async () => {
      let totp: TotpStatus;
      try {
        totp = (await p.status()) ?? { error: NO_SECRET };
      } catch (error) {
        totp = { error: `error (${describeError(error)})` };
      }
      if (!shown) return;
      // A refresh only ever makes the header worse (the secret stopped unsealing); a good
      // code leaves the integrity the flows set, which may also count /boot's state.
      const worse = "error" in totp ? p.integrity?.() : undefined;
      show({ ...shown, totp, ...(worse ?? {}) });
    })().finally(() => {
      refreshing = null;
    });
  };

  const ask = async <R>(question: () => Promise<R>): Promise<R> => {
    waiting++;
    refresh();
    try {
      return await question();
    } finally {
      waiting--;
      if (refreshing) await refreshing;
    }
  };

  const wrap = (p: Prompt): Prompt => ({
    menu(o) {
      return ask(() => p.menu(o));
    },
    confirm: (o) => ask(() => p.confirm(o)),
    input: (o) => ask(() => p.input(o)),
    password: (o) => ask(() => p.password(o)),
    message: (o) => ask(() => p.message(o)),
    showQr: (o) => ask(() => p.showQr(o)),
    progress: (label) => p.progress(label),
    setStatus: show,
  });

  return {
    get prompt() {
      return wrap(inner.prompt);
    },
    suspend: (run) => inner.suspend(run),
    reset() {
      inner.reset();
      if (shown) inner.prompt.setStatus(shown);
    },
    close() {
      cancelTimer?.();
      cancelTimer = null;
      inner.close();
    },
  };
}
