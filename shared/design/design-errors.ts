import { ValidationError } from '#shared/errors.ts';

// The design's own errors, apart from the YAML reader so that code which only maps or passes
// them on (the analyzers, the use cases) does not load js-yaml.

/**
 * The design is not readable YAML, or expands past a limit. A 400 carrying the position, so a
 * caller can fix the file (Drydock swallowed the parse error and answered 500, defect 38).
 */
export class DesignSyntaxError extends ValidationError {
  /** 1-based line and column of the problem. */
  readonly line: number;
  readonly column: number;

  constructor(message: string, line: number, column: number) {
    super(`design is not valid YAML at line ${line}, column ${column}: ${message}`, [
      { path: `yaml:${line}:${column}`, message },
    ]);
    this.line = line;
    this.column = column;
  }
}

/** A design that parses but is refused for its expanded size (a 400, like a syntax error). */
export class DesignLimitError extends DesignSyntaxError {
  constructor(message: string, line: number, column: number) {
    super(message, line, column);
    this.message = `design refused at line ${line}, column ${column}: ${message}`;
  }
}
