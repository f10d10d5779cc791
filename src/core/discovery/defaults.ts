/** Default for `DiscoveryOptions.maxFileBytes`: 1 MiB. A file of exactly this size is still indexed. */
export const DEFAULT_MAX_FILE_BYTES = 1_048_576;
/** Default for `DiscoveryOptions.maxLineLength`. */
export const DEFAULT_MAX_LINE_LENGTH = 1000;
/** Default for `DiscoveryOptions.maxProseLineLength`. */
export const DEFAULT_MAX_PROSE_LINE_LENGTH = 10_000;
/** Bytes read from the start of a file to decide binary-ness. */
export const BINARY_SNIFF_BYTES = 8192;
/** Bytes read from the start of a file to look for minified content. */
export const MINIFIED_SNIFF_BYTES = 65_536;
/** Files larger than this whose average line length exceeds `MAX_AVERAGE_LINE_LENGTH` are `minified`. */
export const AVERAGE_LINE_MIN_FILE_BYTES = 2048;
export const MAX_AVERAGE_LINE_LENGTH = 300;

/** Names of the ignore files read in every directory (same syntax as `.gitignore`). */
export const GITIGNORE_FILE = '.gitignore';
export const SIFTIGNORE_FILE = '.siftignore';

/**
 * Directory names that are never walked, at any depth (exact, case-sensitive name match):
 * version control metadata, dependency folders, build outputs, tool caches and virtualenvs.
 * Each is reported once as `default-excluded`. Override with `DiscoveryOptions.defaultExcludedDirs`
 * (the list is replaced, so spread this constant to extend it).
 */
export const DEFAULT_EXCLUDED_DIRS: readonly string[] = Object.freeze([
  // version control
  '.git',
  '.hg',
  '.svn',
  '.bzr',
  '_darcs',
  // dependencies
  'node_modules',
  'bower_components',
  'jspm_packages',
  'vendor',
  '.pnpm-store',
  '.yarn',
  // build output
  'dist',
  'build',
  'out',
  'target',
  '.next',
  '.nuxt',
  '.svelte-kit',
  '.angular',
  '.turbo',
  '.parcel-cache',
  '.output',
  // test / coverage / tool caches
  'coverage',
  '.nyc_output',
  '__pycache__',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.tox',
  '.nox',
  '.gradle',
  '.terraform',
  '.dart_tool',
  '.idea',
  '.vscode-test',
  // virtualenvs
  '.venv',
  'venv',
  // Sift's own index
  '.sift',
]);

/**
 * Extensions of source code, markup and documentation. A file named like a secret (`tokenizer.ts`,
 * `secrets.py`, `password-reset.html`, `token.md`) but with one of these is code, not a secret file:
 * it is indexed, and secrets written inside it are redacted instead (src/core/discovery/redact.ts).
 */
export const SECRET_NAME_CODE_EXTENSIONS: readonly string[] = Object.freeze(
  (
    'ts tsx mts cts js jsx mjs cjs py pyi pyw ipynb go rs java kt kts scala sc groovy gradle cs csx fs fsx vb c h cc cpp cxx hpp hh ' +
    'hxx cu m mm swift rb rake gemspec php lua pl pm r jl dart ex exs erl hrl hs ml mli clj cljs elm nim zig sol sh bash zsh fish ' +
    'ps1 psm1 bat cmd sql graphql gql proto tf hcl vue svelte astro html htm cshtml razor jsp erb ejs hbs twig css scss sass less ' +
    'svg md markdown mdx rst adoc asciidoc snap'
  ).split(' '),
);

/** Words that make a file name a secret file (any extension but the code ones above, or none). */
const SECRET_NAME_WORDS = [
  '*secret*',
  '*credential*',
  '*creds*',
  '*password*',
  '*passwd*',
  '*token*',
  '*apikey*',
  '*api_key*',
  '*api-key*',
  '*accesskey*',
  '*access_key*',
  '*access-key*',
  '*privatekey*',
  '*private_key*',
  '*private-key*',
  '*vault_pass*',
  '*vault-pass*',
];

/**
 * Files that may hold credentials are never opened nor indexed. `.gitignore` syntax, always
 * matched case-insensitively, last matching rule wins:
 *
 * - a pattern without `/` matches the name at any depth (`*.pem`, `credentials.json`);
 * - a pattern ending in `/` names a secret DIRECTORY, skipped whole (`.ssh/`); the other patterns only
 *   ever match files (a folder `src/credentials/` is walked, a file `credentials` is not indexed);
 * - `!pattern` is an exception.
 *
 * The rules come in families, in this order:
 * 1. environment files: `.env` as a dotted, dashed or underscored part of the name (`.env`,
 *    `.env.local`, `.env-local`, `.env_production`, `config.env.local`, `prod.env`), `.envrc`, and
 *    everything under a `.envs/` folder;
 * 2. names containing secret, credential, creds, password, passwd, token, api key, access key,
 *    private key (`token.json`, `secret.yml`, `credentials.toml`, `db_password.txt`, `htpasswd`),
 *    and every file under a folder named `secrets`, `.secrets`, `credentials` or `.credentials`;
 * 3. exceptions to 1–2: source code, markup and docs (`SECRET_NAME_CODE_EXTENSIONS`: `tokenizer.ts`,
 *    `secrets.py`), tokenizer files of ML models, and templates that hold placeholders by
 *    convention (`*.example`, `*.sample`, `*.template`, `*.tmpl`, `*.dist`: `.env.example`);
 * 4. always secret, whatever the extension: key files, keystores and certificates bundles
 *    (`*.pem`, `*.key`, `*.p12`, `*.jks`, `id_rsa`…), tool and package-manager credentials
 *    (`.netrc`, `.pgpass`/`pgpass.conf`, `.my.cnf`, `rclone.conf`, `.npmrc`, `.pypirc`,
 *    `.git-credentials`, `.docker/config.json`, kube config, `.aws/`, `.boto`, `.s3cfg`,
 *    `.vault-token`), cloud credentials (`service-account*.json`, `auth.json`), infrastructure
 *    state and variables (`*.tfstate`, `*.tfvars`), password databases (`*.kdbx`).
 *
 * Secret rules are checked before ignore files and include globs: a `!.env` in a `.gitignore` or an
 * include glob matching `.env` never gets the file indexed. Extend with `extraSecretPatterns`.
 */
export const DEFAULT_SECRET_PATTERNS: readonly string[] = Object.freeze([
  // 1. environment files
  '.env',
  '.env.*',
  '*.env',
  '*.env.*',
  '*.env-*',
  '*.env_*',
  '.envrc',
  '.envs/',
  // 2. secret-like names, and the contents of secret folders
  ...SECRET_NAME_WORDS,
  '**/secrets/**',
  '**/.secrets/**',
  '**/credentials/**',
  '**/.credentials/**',
  // 3. exceptions: code and docs, model tokenizers, templates
  ...SECRET_NAME_CODE_EXTENSIONS.map((e) => `!*.${e}`),
  '!*tokenizer*',
  '!special_tokens_map.json',
  '!added_tokens.json',
  '!*.example',
  '!*.sample',
  '!*.template',
  '!*.tmpl',
  '!*.dist',
  '!.env.example',
  '!.env.sample',
  '!.env.template',
  '!.env.*.example',
  '!.env.*.sample',
  '!.env.*.template',
  // 4. always secret. Private keys, certificates bundles, keystores
  '*.pem',
  '*.key',
  '*.p12',
  '*.pfx',
  '*.pkcs12',
  '*.p8',
  '*.jks',
  '*.jceks',
  '*.bks',
  '*.keystore',
  '*.keychain',
  '*.keychain-db',
  '*.keytab',
  '*.ppk',
  'id_rsa*',
  'id_dsa*',
  'id_ecdsa*',
  'id_ed25519*',
  'id_xmss*',
  '*_rsa',
  '*_dsa',
  '*_ecdsa',
  '*_ed25519',
  'ssh_host_*key*',
  'secring.*',
  '.ssh/',
  '.gnupg/',
  '.password-store/',
  // package-manager / tool credentials
  '.npmrc',
  '.pypirc',
  '.netrc',
  '_netrc',
  '.pgpass',
  'pgpass.conf',
  '.my.cnf',
  '*.my.cnf',
  '.mylogin.cnf',
  '.htpasswd',
  'htpasswd',
  '.git-credentials',
  'rclone.conf',
  '.aws/',
  '**/.docker/config.json',
  '.dockercfg',
  '.dockerconfigjson',
  '**/.kube/config',
  'kubeconfig',
  'kubeconfig.*',
  '*.kubeconfig',
  '.s3cfg',
  '.boto',
  '.vault-token',
  '.terraformrc',
  'terraform.rc',
  '**/gh/hosts.yml',
  '*.ovpn',
  // cloud / app credentials
  'credentials',
  'credentials.json',
  '*credentials*.json',
  'service-account*.json',
  '*firebase-adminsdk*.json',
  'client_secret*.json',
  'auth.json',
  'secrets.yml',
  'secrets.yaml',
  'secrets.json',
  'secrets.toml',
  'local.settings.json',
  // infrastructure state & vars, password databases
  '*.tfstate',
  '*.tfstate.*',
  '*.tfvars',
  '*.tfvars.json',
  '*.kdbx',
  '*.kdb',
  '*.psafe3',
]);

/**
 * Machine-written files skipped as `generated` (`.gitignore` syntax, case-insensitive): lockfiles.
 * Replace with `DiscoveryOptions.generatedPatterns`.
 */
export const DEFAULT_GENERATED_PATTERNS: readonly string[] = Object.freeze([
  '*.lock',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'packages.lock.json',
  'go.sum',
  '*.lockb',
]);

/**
 * Minified / derived files skipped as `minified` by name, without reading (`.gitignore` syntax,
 * case-insensitive). Content is also checked: see `DiscoveryOptions.maxLineLength`.
 * Replace with `DiscoveryOptions.minifiedPatterns`.
 */
export const DEFAULT_MINIFIED_PATTERNS: readonly string[] = Object.freeze([
  '*.min.js',
  '*.min.mjs',
  '*.min.cjs',
  '*.min.css',
  '*.map',
]);

/**
 * Extensions (lower case, no dot) of files that are binary by nature: skipped as `binary` without
 * being opened. Anything else is sniffed. Replace with `DiscoveryOptions.binaryExtensions`.
 */
export const DEFAULT_BINARY_EXTENSIONS: readonly string[] = Object.freeze([
  // images
  'png', 'jpg', 'jpeg', 'gif', 'bmp', 'ico', 'icns', 'tif', 'tiff', 'webp', 'avif', 'heic', 'heif', 'psd', 'xcf', 'cur',
  // audio / video
  'mp3', 'wav', 'flac', 'ogg', 'oga', 'opus', 'm4a', 'aac', 'wma', 'mp4', 'm4v', 'mov', 'avi', 'mkv', 'webm', 'wmv', 'flv', 'mpg', 'mpeg',
  // archives / packages
  'zip', 'gz', 'tgz', 'bz2', 'xz', 'zst', 'lz', 'lz4', 'lzma', '7z', 'rar', 'tar', 'jar', 'war', 'ear', 'apk', 'aab', 'ipa', 'deb', 'rpm', 'dmg', 'iso', 'msi', 'cab', 'whl', 'nupkg', 'vsix', 'crx',
  // compiled code / objects
  'exe', 'dll', 'so', 'dylib', 'a', 'lib', 'o', 'obj', 'pdb', 'class', 'pyc', 'pyo', 'pyd', 'wasm', 'node', 'beam', 'elc', 'dex',
  // fonts
  'woff', 'woff2', 'ttf', 'otf', 'eot',
  // documents
  'pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'ods', 'odp', 'epub',
  // data / model weights / databases
  'bin', 'onnx', 'pt', 'pth', 'ckpt', 'safetensors', 'gguf', 'h5', 'hdf5', 'tflite', 'npy', 'npz', 'pkl', 'pickle', 'parquet', 'arrow', 'feather', 'avro', 'orc', 'sqlite', 'sqlite3', 'db', 'mdb', 'accdb',
  // 3D / design / misc
  'blend', 'fbx', 'glb', 'swf', 'sketch', 'fig',
]);

/**
 * Extensions of prose files, whose paragraphs are often written as one long line: they get
 * `maxProseLineLength` instead of `maxLineLength`, and no average-line-length check.
 */
export const PROSE_EXTENSIONS: readonly string[] = Object.freeze(['md', 'markdown', 'mdx', 'txt', 'text', 'rst', 'adoc', 'asciidoc', 'org', 'tex']);
