/**
 * Per-language knowledge for the syntax-aware chunker: which tree-sitter nodes are definitions
 * (and of what kind, with which name and body), which are namespaces, which wrap other nodes,
 * and which are comments / decorators that stick to the definition below them.
 *
 * Node type names are those of the grammars in @vscode/tree-sitter-wasm 0.3.1.
 */
import type { ChunkKind } from '../types';
import type { TSNode } from './treesitter';

/** What a definition node is. */
export interface DefInfo {
  kind: ChunkKind;
  /** Innermost symbol name ("" for namespaces without one). */
  name: string;
  /** Symbols placed before `name` that do not come from an enclosing node (Go receiver, C++ `A::`). */
  qualifier?: string[];
  /** Context for this definition when it has no enclosing node to provide one (Go receiver). */
  context?: string;
  /** The declaration itself (inside wrappers such as `export` / decorators / templates). */
  decl: TSNode;
  /** Node whose named children are the members / statements (class body, function block). */
  body?: TSNode;
  /** Namespaces: always descended into; they add to the header, never to `symbols`. */
  transparent?: boolean;
}

export interface LangSpec {
  classify(node: TSNode): DefInfo | undefined;
  /** Nodes whose children are scanned as if they were in the enclosing scope. */
  flatten: ReadonlySet<string>;
  /** Sibling nodes directly above a definition that belong to it (decorators, attributes). */
  attach: ReadonlySet<string>;
  /** Comment node types. */
  comments: ReadonlySet<string>;
}

const set = (...types: string[]): ReadonlySet<string> => new Set(types);

function field(node: TSNode, name: string): TSNode | undefined {
  return node.childForFieldName(name) ?? undefined;
}

function nameOf(node: TSNode, fallback = '(anonymous)'): string {
  const n = field(node, 'name');
  return n ? n.text : fallback;
}

function firstNamedOfType(node: TSNode, types: ReadonlySet<string>): TSNode | undefined {
  for (const c of node.namedChildren) if (c && types.has(c.type)) return c;
  return undefined;
}

/* ------------------------------------------------------------------ JavaScript / TypeScript */

const JS_FUNCTION_VALUES = set('arrow_function', 'function_expression', 'function', 'generator_function');
const JS_CLASS_VALUES = set('class', 'class_expression');

function jsFunctionBody(fn: TSNode): TSNode | undefined {
  const body = field(fn, 'body');
  return body && body.type === 'statement_block' ? body : undefined;
}

function jsValueDef(value: TSNode | undefined, name: string, decl: TSNode, asMethod: boolean): DefInfo | undefined {
  if (!value) return undefined;
  if (JS_FUNCTION_VALUES.has(value.type)) return { kind: asMethod ? 'method' : 'function', name, decl, body: jsFunctionBody(value) };
  if (JS_CLASS_VALUES.has(value.type)) return { kind: 'class', name, decl, body: field(value, 'body') };
  return undefined;
}

function classifyJs(node: TSNode): DefInfo | undefined {
  switch (node.type) {
    case 'export_statement': {
      const decl = field(node, 'declaration');
      if (decl) return classifyJs(decl);
      const value = field(node, 'value');
      if (value) return jsValueDef(value, 'default', node, false);
      return undefined;
    }
    case 'ambient_declaration': {
      const inner = node.namedChildren.find((c) => c !== null && c.type !== 'comment');
      if (!inner) return undefined;
      if (inner.type === 'statement_block') return { kind: 'module', name: 'global', decl: node, body: inner, transparent: true };
      return classifyJs(inner);
    }
    case 'function_declaration':
    case 'generator_function_declaration':
      return { kind: 'function', name: nameOf(node, 'default'), decl: node, body: field(node, 'body') };
    case 'class_declaration':
    case 'abstract_class_declaration':
    case 'class':
      return { kind: 'class', name: nameOf(node, 'default'), decl: node, body: field(node, 'body') };
    case 'interface_declaration':
      return { kind: 'interface', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'type_alias_declaration':
      return { kind: 'type', name: nameOf(node), decl: node };
    case 'enum_declaration':
      return { kind: 'enum', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'method_definition':
      return { kind: 'method', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'public_field_definition':
      return jsValueDef(field(node, 'value'), nameOf(node), node, true);
    case 'field_definition': {
      const prop = field(node, 'property');
      return prop ? jsValueDef(field(node, 'value'), prop.text, node, true) : undefined;
    }
    case 'lexical_declaration':
    case 'variable_declaration': {
      const declarators = node.namedChildren.filter((c) => c !== null && c.type === 'variable_declarator');
      if (declarators.length !== 1) return undefined;
      const d = declarators[0]!;
      const name = field(d, 'name');
      if (!name || name.type !== 'identifier') return undefined;
      return jsValueDef(field(d, 'value'), name.text, node, false);
    }
    case 'expression_statement': {
      const inner = node.namedChildren[0];
      if (!inner) return undefined;
      if (inner.type === 'internal_module') return classifyJs(inner);
      if (inner.type === 'assignment_expression') {
        // module.exports.foo = function () {} / exports.bar = () => {} / A.prototype.baz = function () {}
        const left = field(inner, 'left');
        const prop = left && left.type === 'member_expression' ? field(left, 'property') : undefined;
        if (!prop) return undefined;
        return jsValueDef(field(inner, 'right'), prop.text, node, false);
      }
      return undefined;
    }
    case 'internal_module':
    case 'module':
      return { kind: 'module', name: nameOf(node, ''), decl: node, body: field(node, 'body'), transparent: true };
    default:
      return undefined;
  }
}

const JS_SPEC: LangSpec = {
  classify: classifyJs,
  flatten: set('ERROR'),
  attach: set('decorator'),
  comments: set('comment', 'html_comment'),
};

/* ------------------------------------------------------------------ Python */

function classifyPython(node: TSNode): DefInfo | undefined {
  switch (node.type) {
    case 'decorated_definition': {
      const def = field(node, 'definition');
      return def ? classifyPython(def) : undefined;
    }
    case 'function_definition':
      return { kind: 'function', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'class_definition':
      return { kind: 'class', name: nameOf(node), decl: node, body: field(node, 'body') };
    default:
      return undefined;
  }
}

const PYTHON_SPEC: LangSpec = {
  classify: classifyPython,
  flatten: set('ERROR'),
  attach: set('decorator'),
  comments: set('comment'),
};

/* ------------------------------------------------------------------ Go */

function goReceiverType(receiver: TSNode | undefined): string | undefined {
  const param = receiver?.namedChildren.find((c) => c !== null && c.type === 'parameter_declaration');
  let t = param ? field(param, 'type') : undefined;
  while (t && (t.type === 'pointer_type' || t.type === 'parenthesized_type')) t = t.namedChildren[0] ?? undefined;
  if (t && t.type === 'generic_type') t = field(t, 'type') ?? t;
  return t?.text;
}

function classifyGo(node: TSNode): DefInfo | undefined {
  switch (node.type) {
    case 'function_declaration':
      return { kind: 'function', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'method_declaration': {
      const receiver = field(node, 'receiver');
      const type = goReceiverType(receiver);
      return {
        kind: 'method',
        name: nameOf(node),
        qualifier: type ? [type] : undefined,
        context: receiver ? `func ${receiver.text}` : undefined,
        decl: node,
        body: field(node, 'body'),
      };
    }
    case 'type_declaration': {
      const specs = node.namedChildren.filter((c) => c !== null && (c.type === 'type_spec' || c.type === 'type_alias'));
      if (specs.length !== 1) return undefined;
      const spec = specs[0]!;
      const type = field(spec, 'type');
      const kind: ChunkKind = type?.type === 'struct_type' ? 'class' : type?.type === 'interface_type' ? 'interface' : 'type';
      return { kind, name: nameOf(spec), decl: node };
    }
    default:
      return undefined;
  }
}

const GO_SPEC: LangSpec = {
  classify: classifyGo,
  flatten: set('statement_list', 'ERROR'),
  attach: set(),
  comments: set('comment'),
};

/* ------------------------------------------------------------------ Rust */

function rustTypeName(t: TSNode | undefined): string {
  while (t) {
    if (t.type === 'generic_type') t = field(t, 'type');
    else if (t.type === 'scoped_type_identifier') t = field(t, 'name');
    else if (t.type === 'reference_type' || t.type === 'pointer_type') t = field(t, 'type');
    else return t.text;
  }
  return '(anonymous)';
}

function classifyRust(node: TSNode): DefInfo | undefined {
  switch (node.type) {
    case 'function_item':
      return { kind: 'function', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'struct_item':
    case 'union_item':
      return { kind: 'class', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'enum_item':
      return { kind: 'enum', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'trait_item':
      return { kind: 'interface', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'impl_item':
      return { kind: 'class', name: rustTypeName(field(node, 'type')), decl: node, body: field(node, 'body') };
    case 'mod_item': {
      const body = field(node, 'body');
      return body ? { kind: 'module', name: nameOf(node), decl: node, body } : undefined;
    }
    case 'type_item':
      return { kind: 'type', name: nameOf(node), decl: node };
    case 'macro_definition':
      return { kind: 'function', name: nameOf(node), decl: node };
    default:
      return undefined;
  }
}

const RUST_SPEC: LangSpec = {
  classify: classifyRust,
  flatten: set('ERROR'),
  attach: set('attribute_item'),
  comments: set('line_comment', 'block_comment'),
};

/* ------------------------------------------------------------------ Java */

function classifyJava(node: TSNode): DefInfo | undefined {
  switch (node.type) {
    case 'class_declaration':
    case 'record_declaration':
      return { kind: 'class', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'interface_declaration':
    case 'annotation_type_declaration':
      return { kind: 'interface', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'enum_declaration':
      return { kind: 'enum', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'method_declaration':
    case 'constructor_declaration':
    case 'compact_constructor_declaration':
      return { kind: 'method', name: nameOf(node), decl: node, body: field(node, 'body') };
    default:
      return undefined;
  }
}

const JAVA_SPEC: LangSpec = {
  classify: classifyJava,
  flatten: set('enum_body_declarations', 'ERROR'),
  attach: set(),
  comments: set('line_comment', 'block_comment'),
};

/* ------------------------------------------------------------------ C / C++ */

const C_NAME_NODES = set(
  'identifier',
  'field_identifier',
  'qualified_identifier',
  'destructor_name',
  'operator_name',
  'type_identifier',
  'template_function',
  'operator_cast',
);
const C_RECORDS = set('class_specifier', 'struct_specifier', 'union_specifier');

/** The declared name of a C/C++ declarator chain (`*get(...)` → `get`, `A::b(...)` → `A::b`). */
function cDeclaratorName(declarator: TSNode | undefined): string | undefined {
  let d = declarator;
  for (let guard = 0; d && guard < 16; guard++) {
    if (C_NAME_NODES.has(d.type)) return d.text;
    d = field(d, 'declarator') ?? d.namedChildren.find((c) => c !== null && c.type !== 'attribute_declaration' && c.type !== 'type_qualifier') ?? undefined;
  }
  return undefined;
}

function splitQualified(name: string): { qualifier?: string[]; name: string } {
  const cleaned = name.replace(/<[^<>]*>/g, '');
  const parts = cleaned.split('::').map((p) => p.trim()).filter(Boolean);
  if (parts.length <= 1) return { name: cleaned || name };
  return { qualifier: parts.slice(0, -1), name: parts[parts.length - 1]! };
}

/** A struct/class/union/enum with a body; `alias` (a typedef name) wins over the tag name. */
function cTypeDef(spec: TSNode, decl: TSNode, alias?: string): DefInfo | undefined {
  const body = field(spec, 'body');
  if (!body) return undefined;
  const kind: ChunkKind = spec.type === 'enum_specifier' ? 'enum' : 'class';
  return { kind, name: alias ?? field(spec, 'name')?.text ?? '(anonymous)', decl, body };
}

function classifyC(node: TSNode): DefInfo | undefined {
  switch (node.type) {
    case 'function_definition': {
      const raw = cDeclaratorName(field(node, 'declarator')) ?? '(anonymous)';
      const { qualifier, name } = splitQualified(raw);
      return { kind: qualifier ? 'method' : 'function', name, qualifier, context: qualifier?.join('::'), decl: node, body: field(node, 'body') };
    }
    case 'class_specifier':
    case 'struct_specifier':
    case 'union_specifier':
    case 'enum_specifier':
      return cTypeDef(node, node);
    case 'declaration':
    case 'field_declaration': {
      const type = field(node, 'type');
      if (type && (C_RECORDS.has(type.type) || type.type === 'enum_specifier')) return cTypeDef(type, node);
      return undefined;
    }
    case 'type_definition': {
      const type = field(node, 'type');
      const alias = field(node, 'declarator')?.text;
      if (type && (C_RECORDS.has(type.type) || type.type === 'enum_specifier') && field(type, 'body')) {
        return cTypeDef(type, node, alias);
      }
      return { kind: 'type', name: alias ?? '(anonymous)', decl: node };
    }
    case 'alias_declaration':
      return { kind: 'type', name: nameOf(node), decl: node };
    case 'template_declaration': {
      const inner = node.namedChildren.filter((c) => c !== null && c.type !== 'template_parameter_list' && c.type !== 'comment').pop();
      const info = inner ? classifyC(inner) : undefined;
      return info ? { ...info, decl: node } : undefined;
    }
    case 'namespace_definition':
      return { kind: 'module', name: nameOf(node, ''), decl: node, body: field(node, 'body'), transparent: true };
    case 'linkage_specification': {
      const body = field(node, 'body');
      return body && body.type === 'declaration_list' ? { kind: 'module', name: '', decl: node, body, transparent: true } : undefined;
    }
    default:
      return undefined;
  }
}

const C_SPEC: LangSpec = {
  classify: classifyC,
  flatten: set('preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef', 'ERROR'),
  attach: set(),
  comments: set('comment'),
};

/* ------------------------------------------------------------------ C# */

function classifyCSharp(node: TSNode): DefInfo | undefined {
  switch (node.type) {
    case 'namespace_declaration':
      return { kind: 'module', name: nameOf(node, ''), decl: node, body: field(node, 'body'), transparent: true };
    case 'class_declaration':
    case 'struct_declaration':
    case 'record_declaration':
    case 'record_struct_declaration':
      return { kind: 'class', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'interface_declaration':
      return { kind: 'interface', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'enum_declaration':
      return { kind: 'enum', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'delegate_declaration':
      return { kind: 'type', name: nameOf(node), decl: node };
    case 'method_declaration':
    case 'constructor_declaration':
    case 'destructor_declaration':
      return { kind: 'method', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'operator_declaration':
    case 'conversion_operator_declaration':
      return { kind: 'method', name: nameOf(node, 'operator'), decl: node, body: field(node, 'body') };
    case 'local_function_statement':
      return { kind: 'function', name: nameOf(node), decl: node, body: field(node, 'body') };
    default:
      return undefined;
  }
}

const CSHARP_SPEC: LangSpec = {
  classify: classifyCSharp,
  flatten: set('ERROR'),
  attach: set(),
  comments: set('comment'),
};

/* ------------------------------------------------------------------ Ruby */

const RUBY_BODY = set('body_statement');

function classifyRuby(node: TSNode): DefInfo | undefined {
  switch (node.type) {
    case 'class':
    case 'module':
      return { kind: 'class', name: nameOf(node), decl: node, body: field(node, 'body') ?? firstNamedOfType(node, RUBY_BODY) };
    case 'method':
    case 'singleton_method':
      return { kind: 'function', name: nameOf(node), decl: node, body: field(node, 'body') ?? firstNamedOfType(node, RUBY_BODY) };
    default:
      return undefined;
  }
}

const RUBY_SPEC: LangSpec = {
  classify: classifyRuby,
  flatten: set('ERROR'),
  attach: set(),
  comments: set('comment'),
};

/* ------------------------------------------------------------------ PHP */

function classifyPhp(node: TSNode): DefInfo | undefined {
  switch (node.type) {
    case 'function_definition':
      return { kind: 'function', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'class_declaration':
    case 'trait_declaration':
      return { kind: 'class', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'interface_declaration':
      return { kind: 'interface', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'enum_declaration':
      return { kind: 'enum', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'method_declaration':
      return { kind: 'method', name: nameOf(node), decl: node, body: field(node, 'body') };
    case 'namespace_definition': {
      const body = field(node, 'body');
      return body ? { kind: 'module', name: nameOf(node, ''), decl: node, body, transparent: true } : undefined;
    }
    default:
      return undefined;
  }
}

const PHP_SPEC: LangSpec = {
  classify: classifyPhp,
  flatten: set('ERROR'),
  attach: set(),
  comments: set('comment'),
};

/* ------------------------------------------------------------------ Bash */

const BASH_SPEC: LangSpec = {
  classify: (node) =>
    node.type === 'function_definition' ? { kind: 'function', name: nameOf(node), decl: node, body: field(node, 'body') } : undefined,
  flatten: set('ERROR'),
  attach: set(),
  comments: set('comment'),
};

const SPECS: Readonly<Record<string, LangSpec>> = {
  typescript: JS_SPEC,
  tsx: JS_SPEC,
  javascript: JS_SPEC,
  python: PYTHON_SPEC,
  go: GO_SPEC,
  rust: RUST_SPEC,
  java: JAVA_SPEC,
  c: C_SPEC,
  cpp: C_SPEC,
  csharp: CSHARP_SPEC,
  ruby: RUBY_SPEC,
  php: PHP_SPEC,
  bash: BASH_SPEC,
};

/** The syntax spec for a language id, when the chunker splits it by definitions. */
export function specFor(language: string): LangSpec | undefined {
  return SPECS[language];
}

/** Node types that never start a signature (skipped when reading a definition's header line). */
export const SIGNATURE_SKIP: ReadonlySet<string> = set(
  'decorator',
  'attribute_list',
  'attribute_item',
  'attributes',
  'annotation',
  'marker_annotation',
  'comment',
  'line_comment',
  'block_comment',
);
