export { formatJson } from './json.js';
export { formatSarif, type SarifOptions } from './sarif.js';
export { formatText, type TextStyle } from './text.js';
export { summarize, type CheckResult } from './result.js';
export { formatFindingLines, formatSkippedScripts } from './install.js';
