/**
 * The logging the design modules need. Declared with method syntax so the Powertools `Logger`
 * (and `console`) fit it. Attributes never carry credentials: references are logged redacted.
 */
export interface DesignLogger {
  debug(message: string, attributes: Record<string, unknown>): void;
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
}

/** A logger that drops everything, for callers that do not care. */
export const silentLogger: DesignLogger = {
  debug() {},
  info() {},
  warn() {},
};
