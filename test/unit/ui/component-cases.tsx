// Every component with fixed props, rendered to the text a console would receive (colour
// codes kept). The same module runs on Node (test/unit/ui) and, bundled, on QuickJS
// (test/engine/ui-render-probe.tsx), so the two renderings can be compared byte for byte.
import chalk from "chalk";
import type { ReactNode } from "react";
import { Confirm } from "../../../ui/components/confirm.tsx";
import { Menu } from "../../../ui/components/menu.tsx";
import { Message } from "../../../ui/components/message.tsx";
import { Password } from "../../../ui/components/password.tsx";
import { Progress } from "../../../ui/components/progress.tsx";
import { QrView } from "../../../ui/components/qr.tsx";
import { StatusHeader } from "../../../ui/components/status-header.tsx";
import { TextInput } from "../../../ui/components/text-input.tsx";
import { UiContext, type KeySource } from "../../../ui/context.ts";
import { decodeKeys } from "../../../ui/keys.ts";
import type { Integrity } from "../../../ui/prompt.ts";
import { renderToText } from "../../../ui/render-to-string.tsx";

export const NOW = Date.UTC(2025, 10, 21, 22, 1, 30);
export const TYPED_SECRET = "s3cr€t";
export const QR_PAYLOAD = "otpauth://totp/qemu-tpm2%20TOTP?secret=JBSWY3DPEHPK3PXP&issuer=qemu-tpm2";

/** The main menu's items, one disabled: shared with components.test.tsx. */
export const ITEMS = [
  { key: "d", label: "Default boot", value: 1 },
  { key: "r", label: "Refresh TOTP/HOTP", value: 2 },
  { key: "o", label: "Options", value: 3 },
  { key: "s", label: "System Info", value: 4, disabled: true },
  { key: "p", label: "Power Off", value: 5 },
];

/** Types `text` into whichever component subscribes, as soon as it does. */
function typing(text: string): KeySource {
  return {
    subscribe(handler) {
      for (const key of decodeKeys(text)) handler(key);
      return () => undefined;
    },
  };
}

function within(node: ReactNode, settings: { color: boolean; keys?: KeySource }): ReactNode {
  return <UiContext.Provider value={{ color: settings.color, keys: settings.keys ?? null }}>{node}</UiContext.Provider>;
}

const header = (integrity: Integrity, reason?: string) => (
  <StatusHeader now={NOW} status={{ board: "qemu-tpm2", integrity, reason, totp: { code: "492039", expiresAt: NOW + 17_000 }, hotp: "Success" }} />
);

export const COMPONENT_CASES: Record<string, () => ReactNode> = {
  menu: () => within(<Menu title="qemu-tpm2 | Heads Boot Menu" text="TOTP: 492039" items={ITEMS} allowBack />, { color: true }),
  "menu-scrolled": () =>
    within(
      <Menu title="Boot entries" items={Array.from({ length: 30 }, (_, i) => ({ key: String.fromCharCode(97 + (i % 26)), label: `Entry ${i}`, value: i }))} rows={5} initialIndex={12} />,
      { color: true },
    ),
  "confirm-no": () => within(<Confirm title="Reset the TPM?" text="This clears every key it holds." />, { color: true }),
  "confirm-yes": () => within(<Confirm title="Reset the TPM?" text="This clears every key it holds." defaultYes />, { color: true }),
  "text-input": () => within(<TextInput title="Change system time" label="Date" initial="2025-01-01" />, { color: true }),
  password: () => within(<Password title="TPM owner password" label="Password" />, { color: true, keys: typing(TYPED_SECRET) }),
  "password-refused": () =>
    within(<Password title="TPM owner password" label="Password" validate={(b) => (b.length < 8 ? "at least 8 characters" : null)} />, {
      color: true,
      keys: typing("abc\r"),
    }),
  "message-success": () => within(<Message title="Secret sealed" text="The TOTP secret is in the TPM." tone="success" />, { color: true }),
  "message-error": () => within(<Message title="Bad signature" text="/boot/kexec.sig does not verify." tone="error" />, { color: true }),
  "progress-bar": () => <Progress label="Hashing /boot" fraction={0.25} detail="vmlinuz-6.1.0" width={20} />,
  "progress-spinner": () => <Progress label="Generating key" fraction={null} frame={1} />,
  qr: () => within(<QrView title="Scan the TOTP secret" text="Use your phone's authenticator" payload={QR_PAYLOAD} />, { color: true }),
  "header-ok": () => within(header("ok"), { color: true }),
  "header-unknown": () => within(header("unknown"), { color: true }),
  "header-tampered": () => within(header("tampered", "/boot hash mismatch"), { color: true }),
  "header-forced": () => within(header("forced"), { color: true }),
  "mono-header-ok": () => within(header("ok"), { color: false }),
  "mono-header-tampered": () => within(header("tampered", "/boot hash mismatch"), { color: false }),
  "mono-menu": () => within(<Menu title="qemu-tpm2 | Heads Boot Menu" items={ITEMS} />, { color: false }),
  "mono-message": () => within(<Message title="Bad signature" text="/boot/kexec.sig does not verify." tone="error" />, { color: false }),
  "mono-qr": () => within(<QrView title="Scan the TOTP secret" text="Use your phone's authenticator" payload={QR_PAYLOAD} />, { color: false }),
};

/**
 * Every case rendered 80 columns wide with 16 colours, whatever the process's own terminal
 * supports (a test's stdout is a pipe, which would turn chalk off).
 */
export function renderComponentCases(): Record<string, string> {
  const level = chalk.level;
  chalk.level = 1;
  try {
    const out: Record<string, string> = {};
    for (const [name, node] of Object.entries(COMPONENT_CASES)) out[name] = renderToText(node(), { columns: 80 });
    return out;
  } finally {
    chalk.level = level;
  }
}
