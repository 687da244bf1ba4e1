// The one argument parser of every command-line tool (demo, fuzz, bench, push, manifests, e2e:envoy,
// local-configs), over node:util parseArgs in strict mode: --help/-h, --opt=value and --opt value, unknown
// options and wrong positionals refused with the usage (exit 2). Tools call it before ensureBuilt(), so
// --help and usage errors answer at once.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { quote } from "./text-file.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Config<O extends Options> = { options: O; strict: true; allowPositionals: true };

export interface Command<O extends Options> {
  /** What follows "usage: "; one entry a line when a tool has several forms. */
  usage: string | readonly string[];
  /** What the tool does, for --help. */
  description: string;
  options: O;
  /** The positional arguments, all required, in order, named as errors should name them ("the lanes spec file"). */
  positionals?: readonly string[];
  /** The tool's commands: the first positional must be one of them (checked before the others). */
  commands?: readonly string[];
  /** After `positionals` (and the command), one or more of these, named as errors should name one ("an admin URL"). */
  repeated?: string;
}

export interface Args<O extends Options> {
  values: ReturnType<typeof parseArgs<Config<O>>>["values"];
  positionals: string[];
}

/** A wrong command line; the message says what is wrong (the usage is added where it is reported). */
export class UsageError extends Error {}

/** --help was asked for; the message is the help text. */
export class HelpRequested extends Error {}

const HELP = { help: { type: "boolean", short: "h" } } as const;

function usageText(cmd: Command<Options>): string {
  return `usage: ${([] as string[]).concat(cmd.usage).join("\n       ")}`;
}

/** Our wording for what strict parsing refused; undefined leaves Node's message (it names the option too). */
function explain(tokens: NonNullable<ReturnType<typeof parseArgs>["tokens"]>, options: Options): string | undefined {
  for (const t of tokens) {
    if (t.kind !== "option") continue;
    const o = options[t.name];
    if (!o) return `unknown option ${t.rawName}`;
    if (o.type === "string" && t.value === undefined) return `${t.rawName} needs a value`;
    if (o.type === "boolean" && t.value !== undefined) return `${t.rawName} takes no value`;
  }
  return undefined;
}

/**
 * `--seed -1` as `--seed=-1`: a negative number after an option that takes a value is its value (node's
 * parser would call it ambiguous); the option's check then says whether negative numbers are allowed.
 */
function negativeValues(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (a === "--") { out.push(...argv.slice(i)); break; }
    const long = /^--([^=]+)$/.exec(a)?.[1];
    const short = /^-([^-])$/.exec(a)?.[1];
    const name = long ?? (short !== undefined ? Object.keys(options).find((k) => options[k].short === short) : undefined);
    if (name !== undefined && options[name]?.type === "string" && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** The positionals a command line must have: the command first, then the listed ones, then the repeated one. */
function checkPositionals(cmd: Command<Options>, got: string[]): void {
  const want = [...(cmd.commands ? [`the command (${cmd.commands.join(", ")})`] : []), ...(cmd.positionals ?? [])];
  if (cmd.commands && got.length > 0 && !cmd.commands.includes(got[0])) {
    throw new UsageError(`unknown command ${quote(got[0])} (known: ${cmd.commands.join(", ")})`);
  }
  if (got.length < want.length) throw new UsageError(`missing ${want[got.length]}`);
  if (cmd.repeated !== undefined) {
    if (got.length === want.length) throw new UsageError(`missing ${cmd.repeated}`);
  } else if (got.length > want.length) throw new UsageError(`unexpected argument ${quote(got[want.length])}`);
}

function parse<O extends Options>(cmd: Command<O>, rawArgv: readonly string[]): Args<O> {
  const options: Options = { ...cmd.options, ...HELP };
  const argv = negativeValues(rawArgv, options);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    // Re-read leniently to find the culprit; --help anywhere on the line wins over any mistake.
    const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
    if (tokens.some((t) => t.kind === "option" && t.name === "help")) throw new HelpRequested();
    throw new UsageError(explain(tokens, options) ?? (e as Error).message);
  }
  if (parsed.values.help === true) throw new HelpRequested();
  checkPositionals(cmd as Command<Options>, parsed.positionals);
  return { values: parsed.values as Args<O>["values"], positionals: parsed.positionals };
}

/**
 * Parses `argv` for `cmd`; `check` turns the values into the tool's settings, throwing UsageError for a bad
 * value. Throws HelpRequested (message: the help text) or UsageError (message: what is wrong, then the usage).
 */
export function parseCommand<const O extends Options, T>(cmd: Command<O>, argv: readonly string[], check: (args: Args<O>) => T): T {
  try {
    return check(parse(cmd, argv));
  } catch (e) {
    if (e instanceof HelpRequested) throw new HelpRequested(`${usageText(cmd)}\n\n${cmd.description.trim()}\n`);
    if (e instanceof UsageError) throw new UsageError(`${e.message}\n${usageText(cmd)}`);
    throw e;
  }
}

/** parseCommand for a tool's entry point: help goes to stdout (exit 0), a usage error to stderr (exit 2). */
export function readCommand<const O extends Options, T>(cmd: Command<O>, argv: readonly string[], check: (args: Args<O>) => T): T {
  try {
    return parseCommand(cmd, argv, check);
  } catch (e) {
    if (e instanceof HelpRequested) { process.stdout.write(e.message); process.exit(0); }
    if (e instanceof UsageError) { console.error(e.message); process.exit(2); }
    throw e;
  }
}

// Value checks for `check`: each takes the option's long name and its value (undefined: not given, passed on).

/** A safe integer of at least `min` (0 or 1 in practice; -Infinity takes negative ones too), at most `max`. */
export function integer(name: string, value: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const what = max < Number.MAX_SAFE_INTEGER ? `an integer from ${min} to ${max}`
      : min === 0 ? "a non-negative integer" : min === 1 ? "a positive integer" : min === -Infinity ? "an integer" : `an integer of at least ${min}`;
    throw new UsageError(`--${name} needs ${what}, got ${quote(value)}`);
  }
  return n;
}

/** One of `choices`. */
export function oneOf<C extends string>(name: string, value: string | undefined, choices: readonly C[]): C | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as C)) throw new UsageError(`--${name} needs one of ${choices.join(", ")}, got ${quote(value)}`);
  return value as C;
}

/** One or more of `choices`, comma-separated. */
export function someOf<C extends string>(name: string, value: string | undefined, choices: readonly C[]): C[] | undefined {
  if (value === undefined) return undefined;
  const picked = value.split(",");
  if (picked.some((p) => !choices.includes(p as C))) throw new UsageError(`--${name} needs one or more of ${choices.join(",")} (comma-separated), got ${quote(value)}`);
  return picked as C[];
}
