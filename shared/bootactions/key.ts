import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { monotonicFactory } from 'ulidx';

/**
 * A node's boot-action key (Drydock's identity key): 32 random bytes, handed to the node as 64
 * hex digits (Drydock tags the MAAS machine `<node>__baid__<hex>`), presented back in
 * `X-Bootaction-Key`. Only its SHA-256 is stored: the key is uniformly random, so a fast hash
 * loses nothing to guessing, and a leaked table yields no key a node route would take.
 */
export interface BootActionKey {
  /** The key as the node presents it: 64 lower-case hex digits. Shown once, never stored. */
  readonly hex: string;
  /** SHA-256 of the key bytes, hex: what the database holds. */
  readonly hash: string;
}

/** The header a node authenticates with (Drydock's name). */
export const BOOT_ACTION_KEY_HEADER = 'x-bootaction-key';

const KEY_HEX = /^[0-9a-fA-F]{64}$/;

/** A new random key. */
export function generateBootActionKey(): BootActionKey {
  const bytes = randomBytes(32);
  return { hex: bytes.toString('hex'), hash: hashKeyBytes(bytes) };
}

function hashKeyBytes(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The hash of a presented key, or undefined when it cannot be a key at all (not 64 hex digits:
 * Drydock answered 500 for a non-hex key; here it is simply a wrong key).
 */
export function hashPresentedKey(presented: string): string | undefined {
  if (!KEY_HEX.test(presented)) return undefined;
  return hashKeyBytes(Buffer.from(presented, 'hex'));
}

/** Whether two key hashes are equal, in time independent of where they differ. */
export function sameKeyHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

// Monotonic: ids made in the same millisecond still sort in creation order, so a node's actions
// list in the order the orchestrator gave them.
const ulid = monotonicFactory();

/** A boot action id: a ULID in Drydock's 26-character base32 form (`ulid2.ulid_to_base32`). */
export function newBootActionId(): string {
  return ulid();
}

/** Drydock's ULID text form (Crockford base32, 26 characters, upper case). */
export const ACTION_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
