/**
 * A per-container cache of fetched design bytes: bounded in entries and in total bytes, least
 * recently used evicted first, every entry expiring after a real TTL measured on the injected
 * clock. Only successes are stored (Drydock cached its `None` failures forever, defect 33).
 */
export class DesignCache {
  readonly #entries = new Map<string, { bytes: Buffer; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(options: { ttlMs: number; maxEntries: number; maxBytes: number; now: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes;
    this.#now = options.now;
  }

  /** The cached bytes for `key`, or undefined when absent or expired (expired ones are dropped). */
  get(key: string): Buffer | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.#now() >= entry.expiresAt) {
      this.#delete(key);
      return undefined;
    }
    // Re-insert to mark it most recently used.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.bytes;
  }

  /** Stores a successful fetch; a TTL of 0 or an entry bigger than the whole budget is not kept. */
  set(key: string, bytes: Buffer): void {
    if (this.#ttlMs <= 0 || this.#maxEntries <= 0 || bytes.length > this.#maxBytes) return;
    this.#delete(key);
    this.#entries.set(key, { bytes, expiresAt: this.#now() + this.#ttlMs });
    this.#bytes += bytes.length;
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#delete(oldest);
    }
  }

  /** Number of entries held (expired ones included until touched). */
  get size(): number {
    return this.#entries.size;
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#bytes -= entry.bytes.length;
    this.#entries.delete(key);
  }
}
