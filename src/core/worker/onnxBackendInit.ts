// Imported first by the worker entry: picks native or WebAssembly onnxruntime before transformers.js loads.
import { type OnnxBackend, useOnnxBackend } from './onnxBackend';

export const onnxBackend: OnnxBackend = useOnnxBackend();
