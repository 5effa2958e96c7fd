// Parses and validates an AsyncAPI document with the official parser (@asyncapi/parser,
// which runs the specification's JSON Schema and its Spectral rules). Prints one JSON
// line: {"errors": [...], "warnings": [...], "channels": N, "operations": N,
// "messages": N}; exits 1 when the document has errors.
import { readFileSync } from 'node:fs';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const path = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(path, 'utf8'), {
  source: path,
});
const show = (d) => ({ code: d.code, message: d.message, path: d.path.join('/') });
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map(show);
const warnings = diagnostics.filter((d) => d.severity !== DiagnosticSeverity.Error).map(show);
console.log(JSON.stringify({
  errors,
  warnings,
  channels: document ? document.channels().length : 0,
  operations: document ? document.operations().length : 0,
  messages: document ? document.allMessages().length : 0,
}));
process.exit(errors.length || !document ? 1 : 0);
