export { chunkFile, normalizeSource, DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP_LINES, type ChunkInput, type ChunkOptions } from './chunker';
export { HeuristicTokenCounter } from './tokens';
export { detectLanguage, grammarFor, hasGrammar, languagesWithGrammar, normalizeLanguage } from './languages';
export { init, getParser, getLanguage, resolveWasmDir, wasmDir, type TreeSitterOptions } from './treesitter';
