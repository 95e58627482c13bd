import { BAN_RULE_MAX_COUNT } from '../../../../functions/contract/abuse.js';
import { BAN_EVENTS } from '../../limits-schema.js';
import { type DirectiveLine, type DirectiveRow, handled, ignored, setting } from '../directive-row.js';
import { parseBoolean, parseWholeNumber } from '../values.js';

/**
 * ProFTPD's connection limits (mod_auth: http://www.proftpd.org/docs/modules/mod_auth.html) and mod_ban
 * (http://www.proftpd.org/docs/contrib/mod_ban.html), as listeners[].connections and bans.
 */

/** `max|none ["message"]`: the limit and its message; null for none. */
function connectionLimit(line: DirectiveLine): { max: number; message?: string } | null | undefined {
  const [max = '', message, ...rest] = line.node.args;
  if (line.node.args.length === 0 || rest.length > 0) {
    line.fail('takes a number (or none) and an optional message');
    return undefined;
  }
  return limitValue(line, max, message);
}

function limitValue(
  line: DirectiveLine,
  max: string,
  message: string | undefined,
): { max: number; message?: string } | null | undefined {
  if (max.toLowerCase() === 'none') return null;
  const count = parseWholeNumber(max);
  if (count === undefined || count < 1) {
    line.fail(`must be a whole number of at least 1 or none, got "${max}"`);
    return undefined;
  }
  return message === undefined ? { max: count } : { max: count, message };
}

/** mod_ban's `hh:mm:ss`, in milliseconds. */
function banTime(text: string): number | undefined {
  const match = /^(\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const ms = (Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000;
  return ms > 0 ? ms : undefined;
}

export const LIMIT_ROWS: DirectiveRow[] = [
  setting('MaxClients', connectionLimit),
  handled({
    name: 'MaxClientsPerClass',
    parse: (line) => {
      const [className = '', max = '', message, ...rest] = line.node.args;
      if (line.node.args.length < 2 || rest.length > 0) {
        line.fail('takes a class name, a number (or none) and an optional message');
        return undefined;
      }
      const limit = limitValue(line, max, message);
      return limit === undefined ? undefined : { className, limit, loc: line.node.loc };
    },
    // Repeatable, one line per class; a later line for the same class replaces the earlier one.
    apply: ({ node, scope }, entry) => {
      const entries = (scope.settings.MaxClientsPerClass?.value ?? []).filter(
        (existing) => existing.className !== entry.className,
      );
      scope.settings.MaxClientsPerClass = { value: [...entries, entry], loc: node.loc, name: node.name };
    },
  }),
  setting('MaxClientsPerHost', connectionLimit),
  setting('MaxClientsPerUser', connectionLimit),
  setting('MaxConnectionsPerHost', connectionLimit),
  setting('MaxHostsPerUser', connectionLimit),
  setting('MaxInstances', (line) => {
    const arg = line.one();
    if (arg === undefined) return undefined;
    const count = parseWholeNumber(arg);
    if (count !== undefined && count >= 1) return count;
    line.fail(`must be a whole number of at least 1, got "${arg}"`);
    return undefined;
  }),
  setting('TCPBackLog', (line) => {
    const arg = line.one();
    if (arg === undefined) return undefined;
    const count = parseWholeNumber(arg);
    if (count !== undefined && count >= 1 && count <= 65535) return count;
    line.fail(`must be a whole number from 1 to 65535, got "${arg}"`);
    return undefined;
  }),
  setting('BanEngine', (line) => {
    const arg = line.one();
    const flag = arg === undefined ? undefined : parseBoolean(arg);
    if (arg !== undefined && flag === undefined) line.fail(`must be on or off, got "${arg}"`);
    return flag;
  }),
  setting('BanMessage', (line) => line.one()),
  handled({
    name: 'BanOnEvent',
    parse: (line) => {
      const [event = '', freq = '', duration = '', message, ...rest] = line.node.args;
      if (line.node.args.length < 3 || rest.length > 0) {
        line.fail('takes an event, count/hh:mm:ss, a duration hh:mm:ss and an optional message');
        return undefined;
      }
      const known = BAN_EVENTS.find((name) => name.toLowerCase() === event.toLowerCase());
      if (!known) {
        line.fail(`"${event}" is not an event ftpx counts (${BAN_EVENTS.join(', ')})`);
        return undefined;
      }
      const [count, window] = freq.split('/');
      const times = parseWholeNumber(count ?? '');
      const windowMs = banTime(window ?? '');
      const durationMs = banTime(duration);
      if (times === undefined || times < 1 || windowMs === undefined) {
        line.fail(`"${freq}" is not count/hh:mm:ss with a count of at least 1 and a window above 0`);
        return undefined;
      }
      // hh:mm:ss stays within the store's 1 s to 366 days; only the count can be out of its range.
      if (times > BAN_RULE_MAX_COUNT) {
        line.fail(`the count ${times} is above the largest ftpx counts (${BAN_RULE_MAX_COUNT})`);
        return undefined;
      }
      if (durationMs === undefined) {
        line.fail(`"${duration}" is not a duration hh:mm:ss above 0`);
        return undefined;
      }
      return {
        event: known,
        count: times,
        window: `${windowMs}ms`,
        duration: `${durationMs}ms`,
        ...(message !== undefined ? { message } : {}),
      };
    },
    apply: ({ node, scope }, rule) => {
      const rules = [...(scope.settings.BanOnEvent?.value ?? []), rule];
      scope.settings.BanOnEvent = { value: rules, loc: node.loc, name: node.name };
    },
  }),
  ...ignored(['BanTable'], 'ftpx keeps the ban table in its store, shared by every worker'),
  ...ignored(
    ['BanLog', 'BanCache', 'BanCacheOptions', 'BanControlsACLs', 'BanOptions'],
    'not applied by ftpx',
  ),
];
