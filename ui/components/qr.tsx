// A QR code a phone can scan from the screen (the TOTP secret as an otpauth:// URL),
// with a title and text above it; Enter (or Escape) closes it.
import { Box, Text } from "ink";
import { useKeyMachine, useUi } from "../context.ts";
import { encodeQr, type QrCode } from "../qr/encode.ts";
import { qrToHalfBlocks } from "../qr/half-blocks.ts";
import { acknowledgeStep } from "./message.tsx";

/**
 * Level M, unless the symbol would not fit in `maxLines` console lines and level L makes it
 * smaller: a code that scrolls off an 80×24 serial console cannot be scanned at all.
 */
export function chooseQr(payload: string, maxLines?: number): QrCode {
  const m = encodeQr(payload, { level: "M" });
  if (maxLines === undefined || qrToHalfBlocks(m).length <= maxLines) return m;
  const l = encodeQr(payload, { level: "L" });
  return l.version < m.version ? l : m;
}

export interface QrViewProps {
  title: string;
  text: string;
  payload: string;
  /** Console lines the code may take. */
  maxLines?: number;
  onDone?: () => void;
}

export function QrView({ title, text, payload, maxLines, onDone }: QrViewProps) {
  const { color } = useUi();
  useKeyMachine(() => null, (_s, key) => acknowledgeStep(key), () => onDone?.());
  const lines = qrToHalfBlocks(chooseQr(payload, maxLines));
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      <Text>{text}</Text>
      <Box flexDirection="column">
        {lines.map((line, i) => (
          // The glyphs are the light modules: pin them to bright white on black where colour
          // exists, so a light-background terminal does not invert the code.
          <Text key={i} wrap="truncate" color={color ? "whiteBright" : undefined} backgroundColor={color ? "black" : undefined}>
            {line}
          </Text>
        ))}
      </Box>
      <Text dimColor>Scan the code, then press Enter</Text>
    </Box>
  );
}
