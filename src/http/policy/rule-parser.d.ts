// Types of the generated rule-parser.js (peggy emits JavaScript only): what its grammar
// actions return, and peggy's error.
export type ParsedRule =
  | { readonly type: 'or' | 'and'; readonly rules: readonly ParsedRule[] }
  | { readonly type: 'not'; readonly rule: ParsedRule }
  | { readonly type: 'check'; readonly text: string; readonly offset: number };

export interface Expectation {
  readonly type: 'literal' | 'class' | 'any' | 'end' | 'other';
  readonly text?: string;
  readonly description?: string;
}

export declare class SyntaxError extends globalThis.SyntaxError {
  readonly expected: readonly Expectation[] | null;
  readonly found: string | null;
  readonly location: { readonly start: { readonly offset: number; readonly column: number } };
}

export declare function parse(input: string, options?: { grammarSource?: string }): ParsedRule;
